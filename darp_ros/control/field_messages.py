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

"""
Decode joint states, poses, vectors and multi-arrays into float64 observation arrays.

The functions are duck-typed on field names, so they accept messages from rclpy (float64[]
fields are array.array('d')) and from the pure-Python rosbags package (numpy arrays) alike,
and never import rclpy.
"""

from collections import Counter
from functools import lru_cache
import math
from typing import Any, Optional, Sequence, Tuple

from darp_ros.core.errors import ConfigError, ObservationError
import numpy as np

JOINT_FIELDS = ('position', 'velocity', 'effort')
POSE_FIELDS = ('position', 'orientation', 'pose')

QUATERNION_NORM_TOLERANCE = 1e-3


def stamp_seconds(stamp: Any) -> Optional[float]:
    """Return a builtin_interfaces/Time-like stamp in seconds, or None when it is unset (0, 0)."""
    sec, nanosec = int(stamp.sec), int(stamp.nanosec)
    if sec == 0 and nanosec == 0:
        return None
    return sec + nanosec * 1e-9


def _float_array(values: Any, what: str) -> np.ndarray:
    """View a numeric message array (array.array, numpy array, list) as float64."""
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as error:
        raise ObservationError(
            f'{what} of type {type(values).__name__} is not a numeric array') from error


def _repeated(names: Sequence[str]) -> list:
    return sorted(name for name, count in Counter(names).items() if count > 1)


class JointPicker:
    """
    Pick named joints out of sensor_msgs/JointState messages, in the order of `names`.

    The name-to-index map is rebuilt only when a message's name list differs from the
    previous one, since joint states arrive at up to 1 kHz with the same names each time.
    The names ('*',) take every value in message order: for vectors a tool of this project
    publishes as JointState because it is the standard stamped vector.
    """

    def __init__(self, names: Sequence[str], field: str = 'position'):
        if isinstance(names, str):
            raise ConfigError(f'joint names must be a sequence of names, got the string {names!r}')
        self.names = tuple(str(name) for name in names)
        if not self.names:
            raise ConfigError('joint names are empty')
        repeated = _repeated(self.names)
        if repeated:
            raise ConfigError(f'joint names {repeated} are requested more than once')
        if field not in JOINT_FIELDS:
            raise ConfigError(
                f'joint field {field!r} is not one of {", ".join(JOINT_FIELDS)}')
        self.field = field
        # One attribute holds both, so a reader on another thread never sees a key with the
        # index array of a different key.
        self._cached: Tuple[Optional[Tuple[str, ...]], Optional[np.ndarray]] = (None, None)

    def _indices(self, message_names: Tuple[str, ...]) -> np.ndarray:
        key, indices = self._cached
        if key == message_names:
            return indices
        positions = {name: i for i, name in enumerate(message_names)}
        if len(positions) != len(message_names):
            raise ObservationError(
                f'joint state names {_repeated(message_names)} appear more than once')
        if self.names == ('*',):
            indices = np.arange(len(message_names), dtype=np.intp)
            self._cached = (message_names, indices)
            return indices
        missing = [name for name in self.names if name not in positions]
        if missing:
            raise ObservationError(
                f'joint state lacks joints {missing}; it has {list(message_names)}')
        indices = np.array([positions[name] for name in self.names], dtype=np.intp)
        self._cached = (message_names, indices)
        return indices

    def __call__(self, msg: Any) -> np.ndarray:
        """Return the picked values as a float64 array of shape (len(names),)."""
        message_names = tuple(msg.name)
        indices = self._indices(message_names)
        values = _float_array(getattr(msg, self.field), f'joint state {self.field}')
        if values.size != len(message_names):
            raise ObservationError(
                f'joint state has {values.size} {self.field} values for '
                f'{len(message_names)} names')
        picked = values[indices]
        finite = np.isfinite(picked)
        if not finite.all():
            names = message_names if self.names == ('*',) else self.names
            bad = {names[i]: float(picked[i]) for i in np.flatnonzero(~finite)}
            raise ObservationError(f'joint state {self.field} is not finite for joints {bad}')
        return picked


@lru_cache(maxsize=64)
def _picker(names: Tuple[str, ...], field: str) -> JointPicker:
    return JointPicker(names, field)


def joint_values(msg: Any, names: Sequence[str], field: str = 'position') -> np.ndarray:
    """
    Return the `field` values of the named joints of a JointState, in the order of `names`.

    Pickers are cached per (names, field), so repeated calls do not rebuild the index map.
    """
    return _picker(tuple(names), field)(msg)


def _unwrap(msg: Any, inner: str) -> Any:
    """Descend through `pose` (or `twist`...) wrappers until `inner` is an attribute."""
    obj = msg
    # PoseStamped wraps one level; PoseWithCovarianceStamped and Odometry wrap two.
    for _ in range(3):
        if hasattr(obj, inner):
            return obj
        obj = getattr(obj, 'pose', None)
        if obj is None:
            break
    raise ObservationError(f'{type(msg).__name__} message has no pose {inner}')


def _check_finite(values: np.ndarray, what: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ObservationError(f'{what} is not finite: {values.tolist()}')
    return values


def _position(pose: Any) -> np.ndarray:
    p = pose.position
    return _check_finite(np.array([p.x, p.y, p.z], dtype=np.float64), 'pose position')


def _orientation(pose: Any) -> np.ndarray:
    q = pose.orientation
    quaternion = _check_finite(
        np.array([q.x, q.y, q.z, q.w], dtype=np.float64), 'pose orientation (x, y, z, w)')
    norm = math.sqrt(float(quaternion @ quaternion))
    if abs(norm - 1.0) > QUATERNION_NORM_TOLERANCE:
        raise ObservationError(
            f'pose orientation (x, y, z, w) {quaternion.tolist()} has norm {norm:.6g}, '
            f'expected 1 within {QUATERNION_NORM_TOLERANCE}')
    return quaternion / norm


def pose_values(msg: Any, field: str) -> np.ndarray:
    """
    Return a Pose or PoseStamped field as float64: position (3,), orientation (4,) or pose (7,).

    Orientation is in ROS order (x, y, z, w) and normalized; a quaternion whose norm is
    further than QUATERNION_NORM_TOLERANCE from 1 is rejected rather than silently fixed.
    """
    if field not in POSE_FIELDS:
        raise ConfigError(f'pose field {field!r} is not one of {", ".join(POSE_FIELDS)}')
    if field == 'position':
        return _position(_unwrap(msg, 'position'))
    if field == 'orientation':
        return _orientation(_unwrap(msg, 'orientation'))
    pose = _unwrap(msg, 'position')
    return np.concatenate([_position(pose), _orientation(pose)])


def array_values(msg: Any, indices: Optional[Sequence[int]] = None) -> np.ndarray:
    """
    Return the data of a std_msgs/Float64MultiArray-like message as float64, optionally indexed.

    The layout's data_offset (padding at the front of data) is skipped before indexing.
    """
    values = _float_array(msg.data, 'multi-array data')
    layout = getattr(msg, 'layout', None)
    offset = int(getattr(layout, 'data_offset', 0) or 0)
    if offset:
        if offset > values.size:
            raise ObservationError(
                f'multi-array data_offset {offset} exceeds its length {values.size}')
        values = values[offset:]
    if indices is None:
        picked = values.copy()
        names = None
    else:
        picked_indices = np.asarray(indices)
        if picked_indices.ndim != 1 or (
                picked_indices.size and picked_indices.dtype.kind not in 'iu'):
            raise ConfigError(f'multi-array indices {indices!r} must be a list of integers')
        picked_indices = picked_indices.astype(np.intp)
        out_of_range = picked_indices[(picked_indices < 0) | (picked_indices >= values.size)]
        if out_of_range.size:
            raise ObservationError(
                f'multi-array indices {out_of_range.tolist()} are out of range for data of '
                f'length {values.size}')
        picked = values[picked_indices]
        names = picked_indices
    finite = np.isfinite(picked)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        where = (names[bad] if names is not None else bad).tolist()
        raise ObservationError(f'multi-array data is not finite at indices {where}')
    return picked


def _resolve(msg: Any, field: str) -> Any:
    obj = msg
    for part in filter(None, field.split('.')):
        if not hasattr(obj, part):
            raise ObservationError(
                f'{type(msg).__name__} message has no field {field!r} (no {part!r})')
        obj = getattr(obj, part)
    return obj


def vector_values(msg: Any, field: str = 'vector') -> np.ndarray:
    """
    Return the x/y/z object at a dotted `field` path as float64 (3,).

    Examples: 'vector' (Vector3Stamped), 'point' (PointStamped), 'twist.linear'
    (TwistStamped), 'wrench.force' (WrenchStamped), '' (a bare Vector3 or Point). A path to
    a Twist, Accel or Wrench gives (6,): linear then angular, or force then torque.
    """
    obj = _resolve(msg, field)
    for first, second in (('linear', 'angular'), ('force', 'torque')):
        if hasattr(obj, first) and hasattr(obj, second):
            parts = (getattr(obj, first), getattr(obj, second))
            break
    else:
        parts = (obj,)
    try:
        values = np.array([[p.x, p.y, p.z] for p in parts], dtype=np.float64).reshape(-1)
    except AttributeError as error:
        raise ObservationError(
            f'field {field!r} of {type(msg).__name__} is not an x/y/z vector') from error
    return _check_finite(values, f'{type(msg).__name__} {field or "vector"}')
