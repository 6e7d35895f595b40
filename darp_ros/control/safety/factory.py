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


"""Build the filter for a command kind from the plain mapping of a YAML limits file."""

from typing import Any, Callable, Dict, Mapping, Tuple

from darp_ros.control.safety.axis_filter import PositionFilter
from darp_ros.control.safety.base import CommandFilter
from darp_ros.control.safety.box_filter import BoxFilter, per_axis
from darp_ros.control.safety.cartesian_filters import PoseFilter, TwistFilter
from darp_ros.control.safety.limits import (AxisLimits, CartesianLimits, checked_keys, ndim,
                                            numbers, positive)
from darp_ros.control.safety.velocity_filter import VelocityFilter
from darp_ros.core.errors import ConfigError
import numpy as np

COMMAND_KINDS = ('joint_position', 'joint_trajectory', 'joint_velocity', 'twist', 'pose',
                 'array')

_JOINT_KEYS = ('lower', 'upper', 'velocity', 'acceleration')
_CARTESIAN_RATES = ('linear_velocity', 'linear_acceleration', 'angular_velocity',
                    'angular_acceleration')
_WORKSPACE = ('workspace_lower', 'workspace_upper')


def _listed(key: str, value: Any, dim: int) -> Tuple[float, ...]:
    """Return a list of exactly dim numbers; a scalar is refused, it has no axis count."""
    if isinstance(value, (str, bytes)) or ndim(value) != 1:
        raise ConfigError(f'{key} must be a list of {dim} numbers, got {value!r}')
    values = numbers(key, value)
    if len(values) != dim:
        raise ConfigError(f'{key} has {len(values)} values, expected {dim}')
    return values


def _axis_limits(limits: Mapping[str, Any], dim: int) -> AxisLimits:
    values = checked_keys('limits', limits, _JOINT_KEYS, ('max_step',))
    return AxisLimits(**{key: None if value is None else _listed(key, value, dim)
                         for key, value in values.items()})


def _positions(limits: Mapping[str, Any], dim: int) -> CommandFilter:
    return PositionFilter(_axis_limits(limits, dim))


def _velocities(limits: Mapping[str, Any], dim: int) -> CommandFilter:
    return VelocityFilter(_axis_limits(limits, dim))


def _fixed_dim(kind: str, dim: int, expected: int) -> None:
    if dim != expected:
        raise ConfigError(f'a {kind} command has {expected} values, got dim = {dim}')


def _twist(limits: Mapping[str, Any], dim: int) -> CommandFilter:
    _fixed_dim('twist', dim, 6)
    # The workspace is required: a steady twist carries the arm out of any box, so only
    # braking towards its walls keeps a twist stream safe to leave running.
    missing = [key for key in _WORKSPACE if isinstance(limits, Mapping) and key not in limits]
    if missing:
        raise ConfigError(f'twist commands need a workspace box, missing {missing}: a steady '
                          'twist would carry the arm out of any box')
    values = checked_keys('limits', limits, _CARTESIAN_RATES + _WORKSPACE)
    rates = CartesianLimits(**{key: values[key] for key in _CARTESIAN_RATES})
    return TwistFilter(rates, (_listed('workspace_lower', values['workspace_lower'], 3),
                               _listed('workspace_upper', values['workspace_upper'], 3)))


def _pose(limits: Mapping[str, Any], dim: int) -> CommandFilter:
    _fixed_dim('pose', dim, 7)
    values = checked_keys('limits', limits, _WORKSPACE + _CARTESIAN_RATES, ('max_step',))
    step = values.get('max_step')
    position = AxisLimits(
        lower=_listed('workspace_lower', values['workspace_lower'], 3),
        upper=_listed('workspace_upper', values['workspace_upper'], 3),
        velocity=(positive('linear_velocity', values['linear_velocity']),) * 3,
        acceleration=(positive('linear_acceleration', values['linear_acceleration']),) * 3,
        max_step=None if step is None else (positive('max_step', step),) * 3)
    return PoseFilter(position, positive('angular_velocity', values['angular_velocity']),
                      positive('angular_acceleration', values['angular_acceleration']))


def _array(limits: Mapping[str, Any], dim: int) -> CommandFilter:
    values = checked_keys('limits', limits, ('lower', 'upper'), ('max_step', 'hold_value'))
    return BoxFilter(per_axis('lower', values['lower'], dim),
                     per_axis('upper', values['upper'], dim),
                     values.get('max_step'), values.get('hold_value'))


_BUILDERS: Dict[str, Callable[[Mapping[str, Any], int], CommandFilter]] = {
    'joint_position': _positions,
    'joint_trajectory': _positions,
    'joint_velocity': _velocities,
    'twist': _twist,
    'pose': _pose,
    'array': _array,
}


def build_filter(kind: str, limits: Mapping[str, Any], dim: int) -> CommandFilter:
    """
    Return the filter for commands of `kind` with `dim` values, from a limits mapping.

    Joint kinds take lists lower, upper, velocity, acceleration and optionally max_step;
    twist takes linear_/angular_ velocity and acceleration and the workspace box
    (workspace_lower, workspace_upper: 3 each); pose takes workspace_lower and
    workspace_upper (3 each), scalar linear_velocity, linear_acceleration (per axis),
    optional max_step, angular_velocity and angular_acceleration; array takes lower, upper,
    optional max_step and hold_value (scalars or lists). Errors name the kind and the key.
    """
    if kind not in COMMAND_KINDS:
        raise ConfigError(f'unknown command kind {kind!r}; expected one of {COMMAND_KINDS}')
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ConfigError(f'safety limits for {kind!r}: dim must be a positive integer, '
                          f'got {dim!r}')
    try:
        return _BUILDERS[kind](limits, int(dim))
    except ConfigError as error:
        raise ConfigError(f'safety limits for {kind!r}: {error}') from None
