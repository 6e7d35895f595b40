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

"""Poses the experts read from the simulator, and the OSC_POSE action that reaches one."""

import numpy as np
from robosuite.utils import transform_utils as T

POSITION_SCALE = 0.05   # metres commanded by a unit OSC_POSE position input
ROTATION_SCALE = 0.5    # radians commanded by a unit OSC_POSE rotation input
OPEN, CLOSED = -1.0, 1.0


def body_pos(env, body: str) -> np.ndarray:
    """Return the world position of a body."""
    return np.array(env.sim.data.body_xpos[env.sim.model.body_name2id(body)])


def body_yaw(env, body: str) -> float:
    """Return the rotation of a body about the world z axis."""
    matrix = env.sim.data.body_xmat[env.sim.model.body_name2id(body)].reshape(3, 3)
    return float(np.arctan2(matrix[1, 0], matrix[0, 0]))


def site_pos(env, site: str) -> np.ndarray:
    """Return the world position of a site."""
    return np.array(env.sim.data.site_xpos[env.sim.model.site_name2id(site)])


def eef_pose(env):
    """Return the gripper site's world position (3,) and rotation matrix (3, 3)."""
    site = env.robots[0].eef_site_id['right']
    return (np.array(env.sim.data.site_xpos[site]),
            np.array(env.sim.data.site_xmat[site]).reshape(3, 3))


def yaw_matrix(yaw: float) -> np.ndarray:
    """Return the rotation by yaw about the world z axis."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def symmetric_yaw(yaw: float, period: float) -> float:
    """Return yaw folded into [-period/2, period/2): the smallest turn to a symmetric pose."""
    return float((yaw + period / 2) % period - period / 2)


def osc_action(env, target_pos: np.ndarray, target_rot: np.ndarray, gripper: float,
               speed: float) -> np.ndarray:
    """
    Return the OSC_POSE action (7,) moving the gripper toward a pose.

    Proportional on the position and rotation error, saturated at speed (<= 1), so the
    arm decelerates smoothly into each waypoint.
    """
    pos, rot = eef_pose(env)
    move = np.clip((target_pos - pos) / POSITION_SCALE * 2.0, -speed, speed)
    # Rotation error as an axis-angle vector in the world frame (the controller's frame).
    turn = T.quat2axisangle(T.mat2quat(target_rot @ rot.T))
    turn = np.clip(turn / ROTATION_SCALE * 2.0, -speed, speed)
    return np.concatenate([move, turn, [gripper]])
