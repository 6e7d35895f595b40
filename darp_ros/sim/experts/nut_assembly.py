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

"""NutAssemblySquare: grasp the nut by its handle, turn its hole square to the peg, drop it on."""

from darp_ros.sim.experts.grasp import grasp_phases, holding, start_yaw, Style
from darp_ros.sim.experts.phases import Phase, PhaseExpert
from darp_ros.sim.experts.pose import body_pos, body_yaw, CLOSED, eef_pose, OPEN, site_pos
import numpy as np

PEG = 'peg1'            # the square peg
PEG_CLEARANCE = 0.16    # height of the nut over the peg's base while carrying


def nut_expert(env, rng: np.random.Generator, noise: float,
               diversity: float = 1.0) -> PhaseExpert:
    """Return a NutAssemblySquare expert with a randomized approach."""
    style = Style.sample(rng, depth=(-0.008, 0.0), diversity=diversity)
    nut = env.nuts[env.nut_id]
    body, handle = nut.root_body, nut.important_sites['handle']
    gripper_yaw0 = start_yaw(env)

    def square_to_peg(e):
        # Turn the gripper (and the nut with it) until the handle points along a side of
        # the square peg that faces the robot: that squares the hole to the peg, and a
        # handle pointing away (+x) would put the gripper out of the arm's reach.
        arm = site_pos(e, handle) - body_pos(e, body)
        heading = np.arctan2(arm[1], arm[0])
        goals = np.array([np.pi / 2, np.pi, -np.pi / 2]) + body_yaw(e, PEG)
        turns = (goals - heading + np.pi) % (2 * np.pi) - np.pi
        return start_yaw(e) - gripper_yaw0 + turns[np.argmin(np.abs(turns))]

    def over_peg(height):
        def target(e):
            grip = eef_pose(e)[0] - body_pos(e, body)
            peg = body_pos(e, PEG)
            return np.array([peg[0], peg[1], env.table_offset[2] + height]) + grip
        return target

    in_hand = holding(lambda e: site_pos(e, handle))
    phases = grasp_phases(env, body, style, yaw_period=np.pi, yaw_offset=np.pi / 2,
                          grasp_point=lambda e: site_pos(e, handle), settle=6) + [
        Phase('lift', lambda e: site_pos(e, handle) * [1, 1, 0]
              + [0, 0, env.table_offset[2] + PEG_CLEARANCE + 0.02], CLOSED, tolerance=0.02,
              guard=in_hand),
        Phase('carry', over_peg(PEG_CLEARANCE), CLOSED, tolerance=0.01, hold=10, yaw=square_to_peg,
              guard=in_hand),
        Phase('lower', over_peg(0.02), CLOSED, tolerance=0.01, timeout=80, guard=in_hand),
        Phase('release', over_peg(0.02), OPEN, tolerance=1.0, hold=6),
    ]
    return PhaseExpert(phases, eef_pose(env)[1], style.speed, noise, rng)
