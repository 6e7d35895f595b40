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


"""Raw action vectors (e.g. normalized end-effector deltas for a simulator) kept in a box."""

from typing import Any, Optional, Sequence, Tuple

from darp_ros.control.safety.base import CommandFilter
from darp_ros.control.safety.kinematics import changed
from darp_ros.control.safety.limits import ndim, number, numbers, positive
from darp_ros.core.errors import ConfigError
import numpy as np


def per_axis(owner: str, value: Any, dim: int) -> Tuple[float, ...]:
    """Return a scalar broadcast to dim values, or a list of exactly dim numbers."""
    if ndim(value) == 0 and not isinstance(value, (str, bytes)):
        return (number(owner, value),) * dim
    values = numbers(owner, value)
    if len(values) != dim:
        raise ConfigError(f'{owner} has {len(values)} values, expected {dim}')
    return values


class BoxFilter(CommandFilter):
    """
    Clip each value into [lower, upper] and its change per cycle to max_step.

    hold() walks towards hold_value (default: zeros clipped into the box) by at most
    max_step per cycle. max_step and hold_value may be scalars (same for every axis).
    """

    def __init__(self, lower: Sequence[float], upper: Sequence[float],
                 max_step: Optional[Any] = None, hold_value: Optional[Any] = None):
        low = np.array(numbers('BoxFilter.lower', lower))
        high = np.array(numbers('BoxFilter.upper', upper))
        if low.size == 0:
            raise ConfigError('BoxFilter.lower must hold at least one axis')
        if high.size != low.size:
            raise ConfigError(f'BoxFilter.upper has {high.size} values, lower has {low.size}')
        for axis in np.flatnonzero(~(low <= high)):
            raise ConfigError(f'BoxFilter axis {axis}: lower = {low[axis]} is above '
                              f'upper = {high[axis]}')
        super().__init__(low.size)
        self.lower, self.upper = low, high
        self.max_step = None
        if max_step is not None:
            steps = per_axis('BoxFilter.max_step', max_step, self.dim)
            self.max_step = np.array([positive(f'BoxFilter.max_step[{axis}]', step)
                                      for axis, step in enumerate(steps)])
        if hold_value is None:
            self.hold_value = np.clip(np.zeros(self.dim), low, high)
        else:
            self.hold_value = np.array(per_axis('BoxFilter.hold_value', hold_value, self.dim))
            for axis in np.flatnonzero((self.hold_value < low) | (self.hold_value > high)):
                raise ConfigError(f'BoxFilter.hold_value[{axis}] = {self.hold_value[axis]} '
                                  f'is outside [{low[axis]}, {high[axis]}]')

    def reset(self, current: Any = None) -> None:
        """Start from the last value sent (None: hold_value), which must lie in the box."""
        if current is None:
            self._last = self.hold_value.copy()
            return
        start = self.vector(current, 'current')
        for axis, value in enumerate(start):
            if not (np.isfinite(value) and self.lower[axis] <= value <= self.upper[axis]):
                raise ValueError(f'BoxFilter.reset: axis {axis} value {value} is outside '
                                 f'[{self.lower[axis]}, {self.upper[axis]}]')
        self._last = start

    def _step(self, command: np.ndarray, dt: float,
              measured: Optional[np.ndarray]) -> Tuple[np.ndarray, Sequence[str]]:
        clipped = np.clip(command, self.lower, self.upper)
        reasons = [f'box limit on axis {axis}'
                   for axis in np.flatnonzero(changed(clipped, command))]
        result = self._toward(clipped)
        reasons += [f'step limit on axis {axis}'
                    for axis in np.flatnonzero(changed(result, clipped))]
        return result, reasons

    def _hold_step(self, dt: float) -> np.ndarray:
        return self._toward(self.hold_value)

    def _toward(self, goal: np.ndarray) -> np.ndarray:
        if self.max_step is None:
            return goal.copy()
        result = self._last + np.clip(goal - self._last, -self.max_step, self.max_step)
        # Round-off in last + step must not leave the box.
        return np.clip(result, self.lower, self.upper)
