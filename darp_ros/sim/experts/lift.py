# Copyright 2026 The darp_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Lift: reach above the cube from a random offset, descend, grasp, lift."""

from darp_ros.sim.experts.grasp import grasp_phases, holding, Style
from darp_ros.sim.experts.phases import Phase, PhaseExpert
from darp_ros.sim.experts.pose import body_pos, CLOSED, eef_pose
import numpy as np


def lift_expert(env, rng: np.random.Generator, noise: float,
                diversity: float = 1.0) -> PhaseExpert:
    """Return a Lift expert with a randomized approach."""
    style = Style.sample(rng, diversity=diversity)
    cube = env.cube.root_body
    start = body_pos(env, cube)
    lift_height = rng.uniform(0.10, 0.20)
    phases = grasp_phases(env, cube, style, yaw_period=np.pi / 2) + [
        Phase('lift', lambda e: np.array([start[0], start[1], start[2] + lift_height]),
              CLOSED, tolerance=0.02, hold=200, guard=holding(lambda e: body_pos(e, cube))),
    ]
    return PhaseExpert(phases, eef_pose(env)[1], style.speed, noise, rng)
