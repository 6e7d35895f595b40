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
The contract every command filter keeps: each returned value respects every limit.

A Franka arm stops with a discontinuity reflex when commands jump, so holds, the first
command after reset and the answer to a NaN command are all limited like any other value.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
import math
from typing import Any, Optional, Sequence, Tuple

import numpy as np

NON_FINITE = 'non-finite command'


@dataclass(frozen=True, eq=False)
class FilterResult:
    """A command to publish and why it differs from what was asked for."""

    values: np.ndarray                  # float64, the command to publish
    interventions: Tuple[str, ...] = ()  # short reasons; empty when the command passed untouched
    held: bool = False                  # True for a hold: non-finite input or a hold() call


def check_dt(dt: Any) -> float:
    """Return dt as a float, refusing anything but a positive finite period."""
    try:
        period = float(dt)
    except (TypeError, ValueError):
        raise ValueError(f'dt must be a positive number of seconds, got {dt!r}') from None
    if not (math.isfinite(period) and period > 0.0):
        raise ValueError(f'dt must be a positive finite number of seconds, got {dt!r}')
    return period


def unique(reasons: Sequence[str]) -> Tuple[str, ...]:
    """Return reasons without repeats, in first-seen order."""
    return tuple(dict.fromkeys(reasons))


class CommandFilter(ABC):
    """Limit a stream of commands, one call per control cycle."""

    def __init__(self, dim: int):
        self.dim = dim
        self._last: Optional[np.ndarray] = None

    @property
    def last(self) -> Optional[np.ndarray]:
        """Return the last values returned, or after reset() what a hold would start from."""
        return None if self._last is None else self._last.copy()

    @abstractmethod
    def reset(self, current: Any) -> None:
        """Start from the measured state, at rest."""

    def check_measured(self, measured: Optional[np.ndarray]) -> Optional[str]:
        """Return why a measured state cannot be commanded from, or None when it can."""
        return None

    def apply(self, command: Any, dt: float,
              measured: Optional[np.ndarray] = None) -> FilterResult:
        """
        Return `command` limited so that every limit holds, and what was changed.

        A command of the wrong length raises a ValueError; a non-finite one (NaN, Inf) gets
        the next step of a hold, with the intervention 'non-finite command'.
        """
        self._require_reset()
        period = check_dt(dt)
        values = self.vector(command, 'command')
        invalid = self._invalid(values)
        if invalid:
            return self._emit(self._hold_step(period), invalid, held=True)
        out, reasons = self._step(values, period, measured)
        return self._emit(out, reasons)

    def hold(self, dt: float) -> FilterResult:
        """Return the next command of a stop as fast as the limits allow."""
        self._require_reset()
        period = check_dt(dt)
        return self._emit(self._hold_step(period), (), held=True)

    def stalled(self) -> None:
        """
        Note that no command went out for longer than a period.

        Filters whose commands are targets (positions, poses) then start the next command from
        rest: the controller reached the last target and stopped there, so continuing at the
        old velocity would be a jump. Velocity commands kept moving; nothing to change.
        """

    def vector(self, values: Any, name: str) -> np.ndarray:
        """Return values as a flat float64 copy of length dim, or raise a ValueError."""
        try:
            array = np.array(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f'{type(self).__name__}: {name} must be numeric, '
                             f'got {values!r}') from None
        if array.size != self.dim:
            raise ValueError(f'{type(self).__name__}: {name} has {array.size} values, '
                             f'expected {self.dim}')
        return array

    def _invalid(self, command: np.ndarray) -> Tuple[str, ...]:
        """Return why the command cannot be followed at all (then the filter holds)."""
        return () if np.isfinite(command).all() else (NON_FINITE,)

    def _emit(self, values: np.ndarray, reasons: Sequence[str],
              held: bool = False) -> FilterResult:
        self._last = values.copy()
        return FilterResult(values.copy(), unique(reasons), held)

    def _require_reset(self) -> None:
        if self._last is None:
            raise RuntimeError(f'{type(self).__name__}: call reset() first')

    @abstractmethod
    def _step(self, command: np.ndarray, dt: float,
              measured: Any) -> Tuple[np.ndarray, Sequence[str]]:
        """
        Return the limited command and the reasons it was changed.

        `command` is finite and of the right length; `measured` is passed through unchecked,
        for the filters that use it to check.
        """

    @abstractmethod
    def _hold_step(self, dt: float) -> np.ndarray:
        """Advance the internal state one cycle of the fastest allowed stop; return the values."""
