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

"""Stack: grasp the red cube, carry it over the green one, lower it on top, let go."""

from darp_ros.sim.experts.grasp import grasp_phases, holding, Style
from darp_ros.sim.experts.phases import Phase, PhaseExpert
from darp_ros.sim.experts.pose import body_pos, CLOSED, eef_pose, OPEN
import numpy as np


def stack_expert(env, rng: np.random.Generator, noise: float,
                 diversity: float = 1.0) -> PhaseExpert:
    """Return a Stack expert with a randomized approach and carry height."""
    style = Style.sample(rng, diversity=diversity)
    cube_a, cube_b = env.cubeA.root_body, env.cubeB.root_body
    half_a, half_b = float(env.cubeA.size[2]), float(env.cubeB.size[2])
    carry = rng.uniform(0.06, 0.12)          # clearance of cube A over cube B while carrying
    settle = rng.uniform(0.004, 0.010)      # gap left under cube A when letting go

    def over_b(height):
        # Where the gripper goes so that cube A's centre sits height above cube B's top,
        # keeping whatever offset the grasp left between the gripper and cube A.
        def target(e):
            grip = eef_pose(e)[0] - body_pos(e, cube_a)
            return body_pos(e, cube_b) + np.array([0.0, 0.0, half_b + half_a + height]) + grip
        return target

    retreat = np.array([0.0, 0.0, 0.1])
    in_hand = holding(lambda e: body_pos(e, cube_a))
    phases = grasp_phases(env, cube_a, style, yaw_period=np.pi / 2) + [
        Phase('lift', lambda e: body_pos(e, cube_a) * [1, 1, 0]
              + [0, 0, body_pos(e, cube_b)[2] + half_b + carry + 0.02], CLOSED,
              tolerance=0.02, guard=in_hand),
        Phase('carry', over_b(carry), CLOSED, tolerance=0.01, guard=in_hand),
        Phase('lower', over_b(settle), CLOSED, tolerance=0.006, timeout=80, guard=in_hand),
        Phase('release', over_b(settle), OPEN, tolerance=1.0, hold=6),
        Phase('retreat', lambda e: body_pos(e, cube_b) + retreat, OPEN, tolerance=0.02,
              hold=200),
    ]
    return PhaseExpert(phases, eef_pose(env)[1], style.speed, noise, rng)
