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


"""Simulator observations as standard ROS messages, the way robot drivers publish them."""

from typing import Sequence

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
import numpy as np
from sensor_msgs.msg import Image, JointState


def joint_state(stamp: Time, names: Sequence[str], positions, velocities=None) -> JointState:
    """Return a JointState of named joints."""
    msg = JointState(name=list(names), position=np.asarray(positions, float).tolist())
    if velocities is not None:
        msg.velocity = np.asarray(velocities, float).tolist()
    msg.header.stamp = stamp
    return msg


def vector(stamp: Time, prefix: str, values) -> JointState:
    """
    Return a stamped vector as a JointState named prefix_0, prefix_1, ...

    JointState is the standard message that is both stamped and a free-length vector, and a
    stamp is what lets a lockstep policy tell one step's inputs from the next's.
    """
    values = np.asarray(values, float).ravel()
    return joint_state(stamp, [f'{prefix}_{i}' for i in range(values.size)], values)


def pose(stamp: Time, frame_id: str, position, quaternion_xyzw) -> PoseStamped:
    """Return a PoseStamped from a position and an (x, y, z, w) quaternion."""
    msg = PoseStamped()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    p, q = msg.pose.position, msg.pose.orientation
    p.x, p.y, p.z = map(float, position)
    q.x, q.y, q.z, q.w = map(float, quaternion_xyzw)
    return msg


def rgb_image(stamp: Time, frame_id: str, pixels: np.ndarray) -> Image:
    """Return an upright (H, W, 3) uint8 array as an rgb8 Image."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    msg = Image(height=pixels.shape[0], width=pixels.shape[1], encoding='rgb8',
                is_bigendian=0, step=pixels.shape[1] * 3, data=pixels.tobytes())
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg
