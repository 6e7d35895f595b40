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

"""The approach-descend-close sequence every pick task starts with, randomized per episode."""

from dataclasses import dataclass
from typing import List, Optional

from darp_ros.sim.experts.phases import Phase
from darp_ros.sim.experts.pose import body_pos, body_yaw, CLOSED, eef_pose, OPEN, \
    symmetric_yaw
import numpy as np


@dataclass(frozen=True)
class Style:
    """How one demonstrator approaches: height, side, speed, how deep it grasps."""

    approach_height: float
    approach_offset: np.ndarray     # (2,) lateral offset of the pre-grasp point
    speed: float
    grasp_depth: float

    @classmethod
    def sample(cls, rng: np.random.Generator, depth=(-0.012, -0.002),
               diversity: float = 1.0) -> 'Style':
        """
        Draw a demonstrator style; depth is the range of grasp heights about the origin.

        diversity in [0, 1] scales every range about its middle: 1 draws from the full
        ranges, 0 gives one fixed demonstrator (the middle of each). The rng advances the
        same way at every diversity, so later draws from it do not depend on diversity.
        """
        def draw(low, high, size=None):
            margin = (1.0 - diversity) * (high - low) / 2   # 0.0 at 1: the ranges unchanged
            return rng.uniform(low + margin, high - margin, size)
        return cls(approach_height=draw(0.05, 0.12),
                   approach_offset=draw(-0.03, 0.03, 2),
                   speed=draw(0.6, 1.0),
                   grasp_depth=draw(*depth))


def start_yaw(env) -> float:
    """Return the yaw of the gripper frame's x axis at the start of the episode."""
    rot = eef_pose(env)[1]
    return float(np.arctan2(rot[1, 0], rot[0, 0]))


def holding(point, reach: float = 0.04):
    """Return a guard that holds while point(env) stays within reach of the gripper."""
    return lambda e: np.linalg.norm(point(e) - eef_pose(e)[0]) < reach


def grasp_phases(env, body: str, style: Style, yaw_period: Optional[float],
                 grasp_point=None, yaw_offset: float = 0.0,
                 settle: int = 0) -> List[Phase]:
    """
    Return phases that end with the gripper closed on body.

    grasp_point(env) overrides the body's origin (a nut's handle); the gripper turns by
    the smallest angle that lines its fingers up with the object, given its symmetry
    (yaw_period; None for a round object, which needs no turn). settle is how many
    steps the gripper dwells at the grasp point before closing: a thin handle needs some.
    """
    point = grasp_point or (lambda e: body_pos(e, body))
    turn = 0.0 if yaw_period is None else symmetric_yaw(
        body_yaw(env, body) + yaw_offset - start_yaw(env), yaw_period)
    above = np.array([*style.approach_offset, style.approach_height])
    depth = np.array([0.0, 0.0, style.grasp_depth])
    return [
        Phase('approach', lambda e: point(e) + above, OPEN, tolerance=0.02, yaw=turn),
        Phase('align', lambda e: point(e) + np.array([0.0, 0.0, 0.03]), OPEN,
              tolerance=0.01),
        Phase('descend', lambda e: point(e) + depth, OPEN, tolerance=0.01, hold=settle),
        Phase('close', lambda e: point(e) + depth, CLOSED, tolerance=1.0, hold=8),
    ]
