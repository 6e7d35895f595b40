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
End-effector twists and poses limited by Cartesian speed and acceleration.

Twists are limited on the norm of each 3-vector, and brake in time to stay inside a
workspace box. A pose moves its position through a
PositionFilter (workspace box, speed bounded in norm, per-axis acceleration) and turns its
orientation towards the commanded one with the rotation rate bounded in norm and in change
per cycle.
"""

from typing import Any, List, Optional, Sequence, Tuple

from darp_ros.control.safety.axis_filter import PositionFilter
from darp_ros.control.safety.base import CommandFilter, NON_FINITE
from darp_ros.control.safety.kinematics import braking_speed
from darp_ros.control.safety.limits import AxisLimits, CartesianLimits, positive
from darp_ros.control.safety.velocity_filter import VelocityFilter
from darp_ros.core.errors import ConfigError
from darp_ros.core.rotations import (exp_map, multiply, normalized, relative_rotation,
                                     safe_norm)
import numpy as np

# Relative slack before a clamp counts as an intervention rather than round-off.
_REPORT_SLACK = 1e-9


def limit_rate(previous: np.ndarray, wanted: np.ndarray, speed: float, change: float,
               name: str) -> Tuple[np.ndarray, List[str]]:
    """
    Return the vector nearest `wanted` with norm <= speed, within `change` of `previous`.

    The wanted vector is first scaled onto the speed ball, then the step towards it is
    shortened; `previous` lies in the ball too, so by convexity the result does as well.
    """
    reasons = []
    size = safe_norm(wanted)
    if size > speed:
        # Scale by the largest entry first: the norm itself may overflow to inf.
        scaled = wanted / np.max(np.abs(wanted))
        wanted = scaled * (speed / np.linalg.norm(scaled))
        if size > speed * (1.0 + _REPORT_SLACK):
            reasons.append(f'{name} velocity limit')
    delta = wanted - previous
    step = safe_norm(delta)
    if step > change:
        delta = delta * (change / step)
        if step > change * (1.0 + _REPORT_SLACK):
            reasons.append(f'{name} acceleration limit')
    result = previous + delta
    size = safe_norm(result)
    if size > speed:  # round-off only
        result = result * (speed / size)
    return result, reasons


class TwistFilter(CommandFilter):
    """
    Limit twists (linear xyz in m/s, angular xyz in rad/s) in norm and change per cycle.

    The linear part also brakes in time to stop inside the workspace box, judged from the
    measured end-effector position passed to apply() (x, y, z in the twist's frame, or a
    pose whose first three values they are): a steady twist would otherwise carry the arm
    out of any box. Its acceleration is bounded per axis by linear_acceleration/sqrt(3), so
    the norm bound still holds.
    """

    def __init__(self, limits: CartesianLimits,
                 workspace: Tuple[Sequence[float], Sequence[float]]):
        if not isinstance(limits, CartesianLimits):
            raise TypeError(f'TwistFilter needs CartesianLimits, got {type(limits).__name__}')
        super().__init__(6)
        self.limits = limits
        lower, upper = workspace
        per_axis = limits.linear_acceleration / np.sqrt(3.0)
        box = AxisLimits(lower=lower, upper=upper, velocity=(limits.linear_velocity,) * 3,
                         acceleration=(per_axis,) * 3)
        if box.dim != 3:
            raise ConfigError(f'TwistFilter: the workspace has {box.dim} axes, expected 3')
        self.translation = VelocityFilter(box, axis_names=('x', 'y', 'z'),
                                          speed=limits.linear_velocity)

    def reset(self, current: Any = None) -> None:
        """
        Start at rest: a twist command always starts from zero.

        `current` is the measured position, which must lie in the box.
        """
        self.translation.reset(self._position(current, 'current'))
        self._last = np.zeros(6)

    def check_measured(self, measured: Optional[np.ndarray]) -> Optional[str]:
        """Return why the measured position is unusable (outside the workspace), or None."""
        if measured is None:
            return 'twist commands need the measured end-effector position'
        try:
            return self.translation.check_measured(self._position(measured, 'measured'))
        except ValueError as exc:
            return str(exc)

    def _position(self, values: Any, name: str) -> np.ndarray:
        """Return x, y, z of a measured position (3 values) or pose (7: position, quaternion)."""
        if values is None:
            raise ValueError(f'TwistFilter: {name} end-effector position is missing')
        state = np.asarray(values, dtype=np.float64).reshape(-1)
        if state.size not in (3, 7):
            raise ValueError(f'TwistFilter: {name} end-effector state has {state.size} values, '
                             'expected 3 (position) or 7 (position and quaternion)')
        return state[:3].copy()

    def _step(self, command: np.ndarray, dt: float,
              measured: Optional[np.ndarray]) -> Tuple[np.ndarray, Sequence[str]]:
        position = None if measured is None else self._position(measured, 'measured')
        linear = self.translation.apply(command[:3], dt, measured=position)
        angular, reasons = self._angular(command[3:], dt)
        return np.concatenate([linear.values, angular]), list(linear.interventions) + reasons

    def _hold_step(self, dt: float) -> np.ndarray:
        return np.concatenate([self.translation.hold(dt).values,
                               self._angular(np.zeros(3), dt)[0]])

    def _angular(self, command: np.ndarray, dt: float) -> Tuple[np.ndarray, List[str]]:
        lim = self.limits
        return limit_rate(self._last[3:], command, lim.angular_velocity,
                          lim.angular_acceleration * dt, 'angular')


class PoseFilter(CommandFilter):
    """
    Limit pose targets (x, y, z, qx, qy, qz, qw) in position and orientation.

    The orientation turns towards the commanded quaternion along the shortest arc; the
    angular velocity vector of the turn is bounded in norm by `angular_velocity`, changes by
    at most `angular_acceleration*dt` per cycle, and slows down in time to stop at the target.
    """

    def __init__(self, position: AxisLimits, angular_velocity: float,
                 angular_acceleration: float):
        if not isinstance(position, AxisLimits) or position.dim != 3:
            raise ConfigError('PoseFilter: position limits must be AxisLimits for x, y, z, '
                              f'got {position!r}')
        super().__init__(7)
        # The linear velocity limit bounds the speed (the norm), as the config files promise;
        # a per-axis limit alone would allow sqrt(3) times that along a diagonal.
        self.translation = PositionFilter(position, axis_names=('x', 'y', 'z'),
                                          speed=min(position.velocity))
        self.angular_velocity = positive('PoseFilter.angular_velocity', angular_velocity)
        self.angular_acceleration = positive('PoseFilter.angular_acceleration',
                                             angular_acceleration)
        self._orientation = np.array([0.0, 0.0, 0.0, 1.0])
        self._rate = np.zeros(3)  # angular velocity vector of the last cycle, rad/s

    @property
    def angular_rate(self) -> np.ndarray:
        """Return the angular velocity vector (fixed frame, rad/s) of the last command."""
        return self._rate.copy()

    def reset(self, current: Any) -> None:
        """Start at rest from the current pose, whose position must lie in the workspace."""
        pose = self.vector(current, 'current')
        orientation = normalized(pose[3:]) if np.isfinite(pose[3:]).all() else None
        if orientation is None:
            raise ValueError(f'PoseFilter.reset: orientation {pose[3:]} is not a valid '
                             'quaternion (non-finite or zero norm)')
        self.translation.reset(pose[:3])
        self._orientation = orientation
        self._rate = np.zeros(3)
        self._last = self._output()

    def stalled(self) -> None:
        """Start from rest, not turning: the pose target stood still past a period."""
        self.translation.stalled()
        self._rate = np.zeros(3)

    def check_measured(self, measured: Optional[np.ndarray]) -> Optional[str]:
        """Return why the measured pose is unusable (position outside the workspace), or None."""
        if measured is None:
            return None
        try:
            pose = self.vector(measured, 'measured')
        except ValueError as exc:
            return str(exc)
        return self.translation.check_measured(pose[:3])

    def _invalid(self, command: np.ndarray) -> Tuple[str, ...]:
        reasons = super()._invalid(command)
        if not reasons and normalized(command[3:]) is None:
            reasons = (NON_FINITE, 'zero-norm quaternion')
        return reasons

    def _step(self, command: np.ndarray, dt: float,
              measured: Optional[np.ndarray]) -> Tuple[np.ndarray, Sequence[str]]:
        reasons = list(self.translation.apply(command[:3], dt).interventions)
        reasons += self._turn(normalized(command[3:]), dt)
        return self._output(), reasons

    def _hold_step(self, dt: float) -> np.ndarray:
        self.translation.hold(dt)
        self._turn(None, dt)
        return self._output()

    def _turn(self, target: Optional[np.ndarray], dt: float) -> List[str]:
        """Rotate one cycle towards target (None: stop turning); return the reasons."""
        wanted = np.zeros(3)
        if target is not None:
            rotation = relative_rotation(self._orientation, target)
            angle = float(np.linalg.norm(rotation))
            if angle > 0.0:
                brake = float(braking_speed(np.array(angle), self.angular_acceleration, dt))
                wanted = rotation * (min(angle / dt, brake) / angle)
        rate, reasons = limit_rate(self._rate, wanted, self.angular_velocity,
                                   self.angular_acceleration * dt, 'angular')
        if target is not None and not reasons:
            direct = rotation / dt
            if safe_norm(rate - direct) > _REPORT_SLACK * (1.0 + safe_norm(direct)):
                reasons.append('angular acceleration limit')  # braking to stop at the target
        turned = multiply(exp_map(rate * dt), self._orientation)
        self._orientation = turned / np.linalg.norm(turned)
        self._rate = rate
        return reasons

    def _output(self) -> np.ndarray:
        return np.concatenate([self.translation.position, self._orientation])
