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

"""PickPlaceCan: grasp the can in the left bin, lift it over the walls, set it down in place."""

from darp_ros.sim.experts.grasp import grasp_phases, holding, Style
from darp_ros.sim.experts.phases import Phase, PhaseExpert
from darp_ros.sim.experts.pose import body_pos, CLOSED, eef_pose, OPEN
import numpy as np

TRAVEL_HEIGHT = 0.98     # world z that clears the bin walls with the can hanging below


def pick_place_expert(env, rng: np.random.Generator, noise: float,
                      diversity: float = 1.0) -> PhaseExpert:
    """Return a PickPlaceCan expert with a randomized approach and drop height."""
    style = Style.sample(rng, depth=(0.0, 0.02), diversity=diversity)
    can = env.objects[env.object_id].root_body
    # The can's quadrant of the right bin lies at the edge of the Panda's reach; aiming
    # between its centre and the bin's centre keeps the arm away from its limits.
    goal = np.array(env.target_bin_placements[env.object_id])
    goal[:2] += 0.4 * (np.asarray(env.bin2_pos[:2]) - goal[:2])
    travel = TRAVEL_HEIGHT + rng.uniform(0.0, 0.04)
    drop = rng.uniform(0.08, 0.11)          # height of the can's centre over the bin floor

    def over_goal(height):
        def target(e):
            grip = eef_pose(e)[0] - body_pos(e, can)
            return np.array([goal[0], goal[1], height]) + grip
        return target

    in_hand = holding(lambda e: body_pos(e, can), reach=0.06)
    phases = grasp_phases(env, can, style, yaw_period=None) + [
        Phase('lift', lambda e: body_pos(e, can) * [1, 1, 0] + [0, 0, travel], CLOSED,
              tolerance=0.03, guard=in_hand),
        Phase('carry', over_goal(travel), CLOSED, tolerance=0.03, guard=in_hand),
        Phase('lower', over_goal(goal[2] + drop), CLOSED, tolerance=0.015, timeout=80,
              guard=in_hand),
        Phase('release', over_goal(goal[2] + drop), OPEN, tolerance=1.0, hold=6),
        Phase('retreat', lambda e: np.array([goal[0], goal[1], travel]), OPEN, tolerance=0.03,
              hold=200),
    ]
    return PhaseExpert(phases, eef_pose(env)[1], style.speed, noise, rng)
