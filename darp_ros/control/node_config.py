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
The policy node's configuration as typed objects, built from flat ROS 2 parameters.

Both the node and the bag replay tool build a NodeConfig from the same parameters, so a
topic maps to the same observation key, and an action to the same command, in both.
"""

from dataclasses import dataclass
import math
from typing import Any, Mapping, Optional, Tuple

from darp_ros.control.command_mapping import CommandMapping, GripperMapping
from darp_ros.control.input_mapping import FIELDS, InputMapping
from darp_ros.control.node_parameters import obs_parameters, PARAMETERS, ParameterSpec
from darp_ros.control.novelty_guard import NoveltyGuardConfig
from darp_ros.core.errors import ConfigError
from darp_ros.core.spec import ObservationSpec

_JOINT_LIMITS = ('lower', 'upper', 'velocity', 'acceleration', 'max_step')
_CARTESIAN_RATES = ('linear_velocity', 'linear_acceleration', 'angular_velocity',
                    'angular_acceleration')
# The limits each command type is checked against; a robot file may hold them all.
LIMIT_KEYS = {
    'joint_position': _JOINT_LIMITS, 'joint_velocity': _JOINT_LIMITS,
    'joint_trajectory': _JOINT_LIMITS,
    'twist': ('workspace_lower', 'workspace_upper') + _CARTESIAN_RATES,
    'pose': ('workspace_lower', 'workspace_upper', 'translation_step') + _CARTESIAN_RATES,
    'array': ('lower', 'upper', 'max_step', 'hold_value'),
}


@dataclass(frozen=True)
class NodeConfig:
    """Everything the policy node reads from its parameters."""

    model_dir: str
    device: str
    autostart: bool
    control_rate_hz: float
    max_input_age_s: float
    max_future_stamp_s: float
    require_stamps: bool
    fault_behavior: str
    hold_timeout_s: float
    max_step_time_s: float
    sync_inputs: bool
    cpu_threads: int
    warmup_steps: int
    log_throttle_s: float
    diagnostics_period_s: float
    novelty_guard: NoveltyGuardConfig
    inputs: Tuple[InputMapping, ...]
    command: CommandMapping
    gripper: GripperMapping
    limits: Mapping[str, Any]

    def command_limits(self) -> dict:
        """Return the limits this command type is checked against, in safety-layer form."""
        limits = {k: v for k, v in self.limits.items() if k in LIMIT_KEYS[self.command.kind]}
        if 'translation_step' in limits:
            # The safety layer calls every per-cycle cap max_step; joints keep theirs apart.
            limits['max_step'] = limits.pop('translation_step')
        return limits

    def input_for(self, key: str) -> InputMapping:
        """Return the mapping of one observation key."""
        for mapping in self.inputs:
            if mapping.key == key:
                return mapping
        raise ConfigError(f'no input mapping for observation key {key!r}')

    def gripper_index(self, action_dim: int) -> Optional[int]:
        """Return the gripper's action element (negative indices count from the end)."""
        if not self.gripper.enabled:
            return None
        return self.gripper.action_index % action_dim

    def topics(self) -> dict:
        """Return {topic: [mappings]}: keys that share a topic share one subscription."""
        grouped = {}
        for mapping in self.inputs:
            grouped.setdefault(mapping.topic, []).append(mapping)
        return grouped


def _values(flat: Mapping[str, Any], specs: Tuple[ParameterSpec, ...], prefix: str = '') -> dict:
    """Return {short name: value} for specs, defaults filled in and every value checked."""
    values = {}
    for spec in specs:
        value = flat.get(spec.name, spec.default)
        value = _coerce(spec, value)
        spec.check(value)
        values[spec.name[len(prefix):]] = value
    return values


def _coerce(spec: ParameterSpec, value: Any) -> Any:
    """Check the kind of one value (YAML gives ints where a double is meant: accept those)."""
    if value is None:
        return None
    scalar = spec.kind.replace('_array', '')
    items = value if spec.kind.endswith('_array') else [value]
    if spec.kind.endswith('_array') and not isinstance(value, (list, tuple)):
        raise ConfigError(f'parameter {spec.name}: expected a list, got {value!r}')
    out = []
    for item in items:
        ok = {'bool': isinstance(item, bool),
              'integer': isinstance(item, int) and not isinstance(item, bool),
              'double': isinstance(item, (int, float)) and not isinstance(item, bool),
              'string': isinstance(item, str)}[scalar]
        if not ok:
            raise ConfigError(f'parameter {spec.name}: expected {spec.kind}, got {value!r}')
        if scalar == 'double':
            item = float(item)
            if not math.isfinite(item):
                raise ConfigError(f'parameter {spec.name}: {item} is not finite')
        out.append(item)
    return tuple(out) if spec.kind.endswith('_array') else out[0]


# Command types whose controllers keep applying the last command they received (forward
# velocity controllers): a node that falls silent leaves the arm moving at that velocity.
KEEPS_MOVING = ('joint_velocity', 'twist')


def check_fault_behavior(kind: str, behavior: str) -> None:
    """Refuse fault_behavior 'silent' for command types that would keep the arm moving."""
    if behavior == 'silent' and kind in KEEPS_MOVING:
        raise ConfigError(f"fault_behavior 'silent' is refused for command.type {kind}: its "
                          'controller keeps applying the last velocity, so the arm would '
                          "keep moving through a fault; use 'hold'")


def node_config(flat: Mapping[str, Any]) -> NodeConfig:
    """Build and check a NodeConfig from {dotted parameter name: value}."""
    top = _values(flat, PARAMETERS)
    keys = top['observation_keys'] or ()
    if not keys:
        raise ConfigError('parameter observation_keys is empty: list the bundle keys and map '
                          'each with obs.<key>.topic and obs.<key>.type')
    inputs = tuple(_input(flat, key) for key in keys)
    group = _group(top, 'command.')
    command = CommandMapping(
        kind=group['type'], topic=group['topic'],
        action_indices=group['action_indices'] or (), scale=group['scale'] or (),
        offset=group['offset'] or (), relative_to=group['relative_to'] or (),
        state_keys=group['state_keys'] or (), joint_names=group['joint_names'] or (),
        frame_id=group['frame_id'], time_from_start_s=group['time_from_start_s'])
    gripper = GripperMapping(**_group(top, 'gripper.'))
    if gripper.enabled and gripper.output == 'action':
        gripper.actions()
    if gripper.enabled and gripper.open_below >= gripper.close_above:
        raise ConfigError(f'gripper.open_below ({gripper.open_below}) must be below '
                          f'gripper.close_above ({gripper.close_above}): that gap is the '
                          'hysteresis')
    if gripper.enabled and gripper.closed_width >= gripper.open_width:
        raise ConfigError(f'gripper.closed_width ({gripper.closed_width}) must be below '
                          f'gripper.open_width ({gripper.open_width}): closing would open')
    limits = {k: v for k, v in _group(top, 'limits.').items() if v not in (None, 0.0)}
    unstamped = [m.key for m in inputs if m.msg_type == 'float64_multi_array']
    if top['require_stamps'] and unstamped:
        raise ConfigError(f'require_stamps needs stamped inputs; {unstamped} come as '
                          'float64_multi_array, which has no header')
    if top['sync_inputs'] and unstamped:
        raise ConfigError(f'sync_inputs needs stamped inputs; {unstamped} come as '
                          'float64_multi_array, which has no header')
    for key in command.relative_to + command.state_keys:
        if key not in keys:
            raise ConfigError(f'command key {key!r} is not among observation_keys {list(keys)}')
    check_fault_behavior(command.kind, top['fault_behavior'])
    return NodeConfig(
        model_dir=top['model_dir'], device=top['device'], autostart=top['autostart'],
        control_rate_hz=top['control_rate_hz'], max_input_age_s=top['max_input_age_s'],
        max_future_stamp_s=top['max_future_stamp_s'], require_stamps=top['require_stamps'],
        fault_behavior=top['fault_behavior'],
        hold_timeout_s=top['hold_timeout_s'],
        max_step_time_s=top['max_step_time_s'], sync_inputs=top['sync_inputs'],
        cpu_threads=top['cpu_threads'],
        warmup_steps=top['warmup_steps'],
        log_throttle_s=top['log_throttle_s'], diagnostics_period_s=top['diagnostics_period_s'],
        novelty_guard=NoveltyGuardConfig.of(top['novelty_guard.hold_above'],
                                            top['novelty_guard.resume_below']),
        inputs=inputs, command=command, gripper=gripper, limits=limits)


def _group(values: Mapping[str, Any], prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}


def _input(flat: Mapping[str, Any], key: str) -> InputMapping:
    prefix = f'obs.{key}.'
    values = _values(flat, obs_parameters(key), prefix)
    if not values['topic'] or not values['type']:
        raise ConfigError(f'observation key {key!r}: set {prefix}topic and {prefix}type '
                          '(one of joint_state, pose_stamped, float64_multi_array, image, '
                          'compressed_image)')
    fields = FIELDS[values['type']]
    field = values['field'] or fields[0]
    if field not in fields:
        raise ConfigError(f'{prefix}field: {field!r} is not one of {fields} for '
                          f'{values["type"]}')
    if values['type'] == 'joint_state' and not values['joints']:
        raise ConfigError(f'{prefix}joints: list the joint names, in the order {key!r} expects')
    return InputMapping(key=key, topic=values['topic'], msg_type=values['type'], field=field,
                        joints=values['joints'] or (), indices=values['indices'] or (),
                        reliability=values['reliability'], depth=values['depth'],
                        resize=values['resize'])


def check_against_bundle(config: NodeConfig, obs_spec: ObservationSpec,
                         action_dim: int) -> None:
    """Raise ConfigError naming the mismatch if the config cannot feed or drive this bundle."""
    mapped = {m.key for m in config.inputs}
    if mapped != set(obs_spec.names):
        raise ConfigError(f'observation_keys {sorted(mapped)} do not match the bundle keys '
                          f'{sorted(obs_spec.names)}')
    for spec in obs_spec.keys:
        mapping = config.input_for(spec.name)
        if (spec.kind == 'rgb') != mapping.is_image:
            raise ConfigError(f'obs.{spec.name}.type {mapping.msg_type!r}: the bundle key is '
                              f'{"a camera" if spec.kind == "rgb" else "low-dimensional"}')
        width = mapping.width()
        if width is not None and spec.kind == 'low_dim' and width != math.prod(spec.shape):
            raise ConfigError(f'obs.{spec.name}: the mapping yields {width} values but the '
                              f'bundle expects shape {spec.shape}')
    gripper = None
    if config.gripper.enabled:
        if not -action_dim <= config.gripper.action_index < action_dim:
            raise ConfigError(f'gripper.action_index {config.gripper.action_index} is outside '
                              f'the action (width {action_dim})')
        gripper = config.gripper_index(action_dim)
    indices = config.command.indices_for(action_dim, gripper)
    bad = [i for i in indices if i >= action_dim]
    if bad:
        raise ConfigError(f'command.action_indices {bad} are outside the action '
                          f'(width {action_dim})')
    for name in ('scale', 'offset'):
        values = getattr(config.command, name)
        if values and len(values) != len(indices):
            raise ConfigError(f'command.{name} has {len(values)} entries for {len(indices)} '
                              'command elements')
