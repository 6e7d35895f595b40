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


"""Quaternion helpers in ROS order (x, y, z, w), in plain numpy, robust to huge entries."""

from typing import Optional

import numpy as np


def safe_norm(vector: np.ndarray) -> float:
    """Return the Euclidean norm without overflowing on entries near the float maximum."""
    scale = float(np.max(np.abs(vector))) if vector.size else 0.0
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    return scale * float(np.linalg.norm(vector / scale))


def normalized(quaternion: np.ndarray) -> Optional[np.ndarray]:
    """Return the unit quaternion, or None when it has zero norm or non-finite entries."""
    scale = float(np.max(np.abs(quaternion)))
    if scale == 0.0 or not np.isfinite(scale):
        return None
    scaled = quaternion / scale
    return scaled / np.linalg.norm(scaled)


def multiply(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return the Hamilton product left * right."""
    lx, ly, lz, lw = left
    rx, ry, rz, rw = right
    return np.array([lw * rx + lx * rw + ly * rz - lz * ry,
                     lw * ry - lx * rz + ly * rw + lz * rx,
                     lw * rz + lx * ry - ly * rx + lz * rw,
                     lw * rw - lx * rx - ly * ry - lz * rz])


def conjugate(quaternion: np.ndarray) -> np.ndarray:
    """Return the inverse of a unit quaternion."""
    return np.array([-quaternion[0], -quaternion[1], -quaternion[2], quaternion[3]])


def log_map(quaternion: np.ndarray) -> np.ndarray:
    """Return the rotation vector (axis times angle, angle in [0, pi]) of a unit quaternion."""
    vector, scalar = quaternion[:3], quaternion[3]
    if scalar < 0.0:  # q and -q are the same rotation; take the short way round
        vector, scalar = -vector, -scalar
    sine = float(np.linalg.norm(vector))
    if sine < 1e-8:  # atan2(s, c) / s = 1/c up to s^2/3, below double precision here
        return 2.0 * vector / scalar
    return vector * (2.0 * np.arctan2(sine, scalar) / sine)


def exp_map(rotation: np.ndarray) -> np.ndarray:
    """Return the unit quaternion of a rotation vector."""
    angle = float(np.linalg.norm(rotation))
    if angle < 1e-8:  # sin(a/2)/a = 1/2 up to a^2/48
        quaternion = np.append(0.5 * rotation, 1.0)
        return quaternion / np.linalg.norm(quaternion)
    return np.append(rotation * (np.sin(0.5 * angle) / angle), np.cos(0.5 * angle))


def relative_rotation(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Return the rotation vector r, in the fixed frame, with exp(r) * start = end."""
    return log_map(multiply(end, conjugate(start)))


def apply_rotation_vector(quaternion: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """
    Turn an orientation by a rotation vector expressed in the fixed (world) frame.

    This is how an operational-space controller reads an end-effector rotation delta.
    """
    turned = multiply(exp_map(np.asarray(rotation, dtype=np.float64)),
                      np.asarray(quaternion, dtype=np.float64))
    return turned / np.linalg.norm(turned)
