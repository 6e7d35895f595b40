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


"""Per-axis position targets (joints, or x/y/z of a Cartesian target) limited every cycle."""

from abc import abstractmethod
from typing import Any, List, Optional, Sequence, Tuple

from darp_ros.control.safety.base import CommandFilter
from darp_ros.control.safety.kinematics import AxisKinematics, braking_speed, changed
from darp_ros.control.safety.limits import AxisLimits
from darp_ros.core.rotations import safe_norm
import numpy as np


def into_ball(vector: np.ndarray, radius: float) -> np.ndarray:
    """Return vector scaled down onto the sphere of that radius if it lies outside it."""
    size = float(np.linalg.norm(vector))
    return vector * (radius / size) if size > radius else vector


def furthest_within(start: np.ndarray, end: np.ndarray, radius: float) -> np.ndarray:
    """
    Return the point of the segment start -> end furthest along it with norm <= radius.

    start is at most as fast as the last velocity, which was inside: it can lie outside only
    by round-off, at full speed. Scaling end down instead (as once done here) left the
    per-axis acceleration window by 0.008 m/s on a reversal at full speed (Hypothesis found
    it): start is pulled onto the sphere, a round-off-sized change, and the answer stays on
    the segment, which lies in the window.
    """
    start = into_ball(start, radius)
    step = end - start
    a, b = float(step @ step), 2.0 * float(start @ step)
    if a == 0.0:
        return start
    c = min(0.0, float(start @ start) - radius * radius)    # start inside, up to round-off
    t = min(1.0, (-b + np.sqrt(max(b * b - 4.0 * a * c, 0.0))) / (2.0 * a))
    return into_ball(start + t * step, radius)


class AxisStateFilter(CommandFilter):
    """
    Shared state of the axis filters: last commanded position and its velocity.

    `speed` optionally bounds the norm of the velocity vector as well (a Cartesian speed
    limit), on top of each axis' own velocity limit.
    """

    def __init__(self, limits: AxisLimits, axis_names: Optional[Sequence[str]] = None,
                 speed: Optional[float] = None):
        if not isinstance(limits, AxisLimits):
            raise TypeError(f'{type(self).__name__} needs AxisLimits, got {type(limits).__name__}')
        super().__init__(limits.dim)
        self.limits = limits
        self.speed = speed
        self.kinematics = AxisKinematics(limits, axis_names)
        self._position = np.zeros(self.dim)
        self._velocity = np.zeros(self.dim)
        self._measured: Optional[np.ndarray] = None  # the last measured position, if any

    @property
    def position(self) -> np.ndarray:
        """Return the position the commands so far lead to."""
        return self._position.copy()

    @property
    def velocity(self) -> np.ndarray:
        """Return the velocity of the last command."""
        return self._velocity.copy()

    def reset(self, current: Any) -> None:
        """Start at rest from the measured positions, which must lie within the limits."""
        position = self.vector(current, 'current')
        self.kinematics.check_position(f'{type(self).__name__}.reset', position)
        self._position = position
        self._velocity = np.zeros(self.dim)
        self._measured = None
        self._last = self._output()

    def check_measured(self, measured: Optional[np.ndarray]) -> Optional[str]:
        """Return why the measured positions are unusable (non-finite, outside), or None."""
        if measured is None:
            return None
        try:
            self.kinematics.check_position('measured state', self.vector(measured, 'measured'))
        except ValueError as exc:
            return str(exc)
        return None

    def _advance(self, wanted: np.ndarray, dt: float) -> List[str]:
        """Move one cycle at the allowed velocity nearest to `wanted`; return the reasons."""
        norm_capped = False
        size = safe_norm(wanted)    # np.linalg.norm overflows to inf from 1.4e154 on
        if self.speed is not None and size > self.speed:
            # Aim inside the speed ball, keeping the direction: straight at the target.
            wanted = wanted * (self.speed / size)
            norm_capped = True
        velocity, reasons = self.kinematics.choose(wanted, self._position, self._velocity, dt,
                                                   self._measured)
        if self.speed is not None and np.linalg.norm(velocity) > self.speed:
            # The per-axis window can still leave the ball (turning at full speed). The
            # allowed velocity nearest the last one is in the window and no faster than it,
            # so the window is convex and meets the ball: take the furthest point towards
            # `velocity` on that segment that is inside the ball.
            anchor, _ = self.kinematics.choose(self._velocity, self._position, self._velocity,
                                               dt, self._measured)
            velocity = furthest_within(anchor, velocity, self.speed)
            norm_capped = True
        if norm_capped:
            reasons = list(reasons) + ['speed limit (norm)']
        self._position = self._position + velocity * dt
        self._velocity = velocity
        return reasons

    def _hold_step(self, dt: float) -> np.ndarray:
        self._advance(np.zeros(self.dim), dt)
        return self._output()

    @abstractmethod
    def _output(self) -> np.ndarray:
        """Return the values to publish for the current state."""


class PositionFilter(AxisStateFilter):
    """
    Limit position targets so the implied motion respects every axis limit.

    The target is clipped into the position limits, then the axis moves towards it at the
    fastest velocity from which it can still stop at the target (so a jump never overshoots),
    within the acceleration, velocity, step and braking bounds. `measured` is ignored: the
    command stream stays continuous, and tracking errors are the controller's business.
    """

    def _output(self) -> np.ndarray:
        return self._position.copy()

    def stalled(self) -> None:
        """Start from rest: the target stood still past a period and the axis stopped there."""
        self._velocity = np.zeros(self.dim)

    def _advance(self, wanted: np.ndarray, dt: float) -> List[str]:
        start = self._position
        reasons = super()._advance(wanted, dt)
        inside = np.clip(self._position, self.kinematics.lower, self.kinematics.upper)
        # Only round-off can reach past a limit; keep the velocity consistent with the clip.
        clipped = inside != self._position
        self._velocity = np.where(clipped, (inside - start) / dt, self._velocity)
        self._position = inside
        return reasons

    def _step(self, command: np.ndarray, dt: float,
              measured: Optional[np.ndarray]) -> Tuple[np.ndarray, Sequence[str]]:
        kin = self.kinematics
        target = np.clip(command, kin.lower, kin.upper)
        reasons = [f'position limit on {kin.labels[axis]}'
                   for axis in np.flatnonzero(changed(target, command))]
        error = target - self._position
        direct = error / dt
        brake = braking_speed(np.abs(error), kin.acceleration, dt)
        wanted = np.clip(direct, -brake, brake)
        reasons += self._advance(wanted, dt)
        # Slowing down to stop at the target is the acceleration limit at work, unless a
        # tighter limit already explains the change.
        braking = changed(wanted, direct) & ~changed(self._velocity, wanted)
        reasons += [f'acceleration limit on {kin.labels[axis]}'
                    for axis in np.flatnonzero(braking)]
        return self._output(), reasons
