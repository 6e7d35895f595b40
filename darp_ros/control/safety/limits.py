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
Kinematic limits read from configuration files, checked once so every filter can trust them.

Real robot limits never come from defaults in code: a missing, non-finite or mis-ordered
value raises a ConfigError that names the field, the axis and the value.
"""

from collections.abc import Iterable
from dataclasses import dataclass
import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from darp_ros.core.errors import ConfigError
import numpy as np


def number(owner: str, value: Any) -> float:
    """Return value as a finite float, or raise a ConfigError naming owner."""
    # YAML turns `yes` into True; a boolean limit is always a typo, never a number.
    if isinstance(value, (bool, str, bytes)):
        raise ConfigError(f'{owner} must be a number, got {value!r}')
    try:
        converted = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f'{owner} must be a number, got {value!r}') from None
    if not math.isfinite(converted):
        raise ConfigError(f'{owner} must be finite, got {value!r}')
    return converted


def numbers(owner: str, values: Any) -> Tuple[float, ...]:
    """Return a sequence of numbers as a tuple of finite floats, naming owner[i] on error."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise ConfigError(f'{owner} must be a list of numbers, got {values!r}')
    try:
        items = list(values)
    except TypeError:
        raise ConfigError(f'{owner} must be a list of numbers, got {values!r}') from None
    return tuple(number(f'{owner}[{i}]', item) for i, item in enumerate(items))


def ndim(value: Any) -> int:
    """Return the number of array dimensions of value, -1 when it is ragged."""
    try:
        return int(np.ndim(value))
    except ValueError:
        return -1


def positive(owner: str, value: Any) -> float:
    """Return value as a finite float > 0, or raise a ConfigError naming owner."""
    converted = number(owner, value)
    if converted <= 0.0:
        raise ConfigError(f'{owner} = {converted} must be > 0')
    return converted


def checked_keys(owner: str, data: Any, required: Sequence[str],
                 optional: Sequence[str] = ()) -> Dict[str, Any]:
    """Return data as a dict after refusing unknown keys and naming the first missing one."""
    if not isinstance(data, Mapping):
        raise ConfigError(f'{owner} must be a mapping, got {type(data).__name__}')
    unknown = sorted(str(key) for key in data if key not in (*required, *optional))
    if unknown:
        raise ConfigError(f'{owner}: unknown keys {unknown}; expected '
                          f'{list(required)} and optionally {list(optional)}')
    for key in required:
        if key not in data:
            raise ConfigError(f'{owner}: missing key {key!r}')
    return dict(data)


@dataclass(frozen=True)
class AxisLimits:
    """Position, velocity, acceleration and per-cycle step limits, one value per axis."""

    lower: Tuple[float, ...]
    upper: Tuple[float, ...]
    velocity: Tuple[float, ...]
    acceleration: Tuple[float, ...]
    max_step: Optional[Tuple[float, ...]] = None

    def __post_init__(self):
        names = ('lower', 'upper', 'velocity', 'acceleration', 'max_step')
        for name in names:
            value = getattr(self, name)
            if name != 'max_step' or value is not None:
                object.__setattr__(self, name, numbers(f'AxisLimits.{name}', value))
        if not self.lower:
            raise ConfigError('AxisLimits.lower must hold at least one axis')
        for name in names[1:]:
            value = getattr(self, name)
            if value is not None and len(value) != len(self.lower):
                raise ConfigError(f'AxisLimits.{name} has {len(value)} values, '
                                  f'lower has {len(self.lower)}')
        for axis, (low, high) in enumerate(zip(self.lower, self.upper)):
            if not low < high:
                raise ConfigError(f'AxisLimits axis {axis}: lower = {low} must be below '
                                  f'upper = {high}')
        for name in names[2:]:
            for axis, value in enumerate(getattr(self, name) or ()):
                positive(f'AxisLimits.{name}[{axis}]', value)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'AxisLimits':
        """Build limits from a mapping with keys lower, upper, velocity, acceleration, max_step."""
        values = checked_keys('AxisLimits', data, ('lower', 'upper', 'velocity', 'acceleration'),
                              ('max_step',))
        return cls(**values)

    @property
    def dim(self) -> int:
        """Return the number of axes."""
        return len(self.lower)


@dataclass(frozen=True)
class CartesianLimits:
    """Bounds on the norms of the linear and angular velocity 3-vectors and their rates."""

    linear_velocity: float          # m/s
    linear_acceleration: float      # m/s^2
    angular_velocity: float         # rad/s
    angular_acceleration: float     # rad/s^2

    def __post_init__(self):
        for name in ('linear_velocity', 'linear_acceleration', 'angular_velocity',
                     'angular_acceleration'):
            object.__setattr__(self, name,
                               positive(f'CartesianLimits.{name}', getattr(self, name)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'CartesianLimits':
        """Build limits from a mapping with the four field names as keys."""
        values = checked_keys('CartesianLimits', data, ('linear_velocity', 'linear_acceleration',
                                                        'angular_velocity',
                                                        'angular_acceleration'))
        return cls(**values)
