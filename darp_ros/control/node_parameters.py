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
The policy node's parameters: names, types, defaults, descriptions and ranges, in one table.

The table lives outside the ROS layer so that the node (which declares it with descriptors),
the bag replay tool (which reads the same YAML files) and the launch file tests all agree on
one list of names. Observation inputs are declared per bundle key, from OBS_TEMPLATE.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

from darp_ros.core.errors import ConfigError
import yaml

KINDS = ('bool', 'integer', 'double', 'string', 'string_array', 'integer_array',
         'double_array')


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: its kind, default (None = not set), meaning and allowed values."""

    name: str
    kind: str
    default: Any
    description: str
    read_only: bool = True
    choices: Tuple[str, ...] = ()
    low: Optional[float] = None
    high: Optional[float] = None

    def with_prefix(self, prefix: str) -> 'ParameterSpec':
        """Return this spec under a dotted prefix (per observation key parameters)."""
        return ParameterSpec(f'{prefix}.{self.name}', self.kind, self.default, self.description,
                             self.read_only, self.choices, self.low, self.high)

    def check(self, value: Any) -> None:
        """Raise ConfigError naming the parameter if value is outside its choices or range."""
        if value is None:
            return
        if self.choices and value not in self.choices:
            raise ConfigError(f'parameter {self.name}: {value!r} is not one of {self.choices}')
        numbers = value if isinstance(value, (list, tuple)) else [value]
        if self.kind in ('integer', 'double', 'integer_array', 'double_array'):
            for number in numbers:
                if self.low is not None and number < self.low or \
                        self.high is not None and number > self.high:
                    raise ConfigError(f'parameter {self.name}: {number!r} is outside '
                                      f'[{self.low}, {self.high}]')


def _p(name, kind, default, description, **extra) -> ParameterSpec:
    return ParameterSpec(name, kind, default, description, **extra)


COMMAND_TYPES = ('joint_position', 'joint_velocity', 'joint_trajectory', 'twist', 'pose',
                 'array')
INPUT_TYPES = ('joint_state', 'pose_stamped', 'float64_multi_array', 'image',
               'compressed_image')
RELIABILITIES = ('best_effort', 'reliable')

PARAMETERS: Tuple[ParameterSpec, ...] = (
    _p('model_dir', 'string', '', 'Model bundle directory (darp train --out)'),
    _p('device', 'string', 'auto', 'Torch and index device: auto (GPU when present), cpu, cuda',
       choices=('auto', 'cpu', 'cuda')),
    _p('autostart', 'bool', False, 'Configure and activate at start (unmanaged use)'),
    _p('control_rate_hz', 'double', 0.0,
       "Command rate; 0 uses the rate the bundle's demonstrations were recorded at",
       low=0.0, high=1000.0),
    _p('max_input_age_s', 'double', 0.2,
       'An input older than this (by stamp or by arrival), when the observation is assembled '
       'or when its command would go out, is stale: hold', low=0.001,
       high=60.0, read_only=False),
    _p('max_future_stamp_s', 'double', 0.05,
       'A stamp further ahead of the node clock than this is rejected (clock skew)',
       low=0.0, high=10.0, read_only=False),
    _p('require_stamps', 'bool', False,
       'Refuse inputs whose header stamp is 0 (hold), instead of dating them by arrival: a '
       'driver that buffers can deliver old data fresh. Float64MultiArray inputs have no '
       'header and are refused at configure'),
    _p('fault_behavior', 'string', 'hold',
       'On stale or bad input, failed inference or overrun: publish a hold, or nothing',
       choices=('hold', 'silent'), read_only=False),
    _p('hold_timeout_s', 'double', 2.0,
       'After this long faulted, once the arm is at rest, stop publishing holds (a controller '
       'that went down after a reflex gets nothing); 0 holds for ever',
       low=0.0, high=3600.0, read_only=False),
    _p('max_step_time_s', 'double', 0.0,
       'An inference slower than this is an overrun (held); 0 means one control period',
       low=0.0, high=10.0, read_only=False),
    _p('sync_inputs', 'bool', False,
       'Lockstep simulation: act once per set of inputs that all carry one new stamp, '
       'instead of on the timer (which then only watches for stale inputs)'),
    _p('cpu_threads', 'integer', 1,
       'Torch CPU threads for inference. 1 keeps idle worker threads from spinning on the '
       "cores the node's own threads need; raise it for large image encoders on free cores",
       low=1, high=256),
    _p('warmup_steps', 'integer', 3, 'Inferences run at configure before the first command',
       low=0, high=1000),
    _p('log_throttle_s', 'double', 1.0, 'At most one fault log line per this many seconds',
       low=0.0, high=3600.0, read_only=False),
    _p('novelty_guard.hold_above', 'double', 0.0,
       'Hold instead of commanding while novelty (distance to the nearest demonstration state '
       'over its typical value; ~1 in distribution) is above this; 0 turns the guard off',
       low=0.0, high=1e6),
    _p('novelty_guard.resume_below', 'double', 0.0,
       'Command again once novelty falls below this (hysteresis); 0 means 0.8 x hold_above',
       low=0.0, high=1e6),
    _p('diagnostics_period_s', 'double', 1.0, 'Period of /diagnostics messages', low=0.05,
       high=60.0),
    _p('observation_keys', 'string_array', None,
       "The bundle's observation keys, each mapped by the obs.<key>.* parameters"),
    _p('command.type', 'string', 'joint_position', 'What the command topic carries',
       choices=COMMAND_TYPES),
    _p('command.topic', 'string', 'command', 'Command topic'),
    _p('command.action_indices', 'integer_array', None,
       'Action elements that form the command, in order (default: all but the gripper)',
       low=0),
    _p('command.scale', 'double_array', None, 'Per-element factor applied to the action'),
    _p('command.offset', 'double_array', None, 'Per-element offset added after scaling'),
    _p('command.relative_to', 'string_array', None,
       'Observation keys (concatenated) the scaled action is added to, for delta commands; '
       'a 6-element pose delta turns the orientation by its rotation vector'),
    _p('command.state_keys', 'string_array', None,
       'Observation keys (concatenated) holding the measured command-space state (joint '
       'positions, or the end-effector position + xyzw quaternion for pose and twist) that '
       'the safety layer starts from'),
    _p('command.joint_names', 'string_array', None, 'Joint names written into JointTrajectory'),
    _p('command.frame_id', 'string', '', 'frame_id of stamped commands'),
    _p('command.time_from_start_s', 'double', 0.0,
       'JointTrajectory point time; 0 means one control period', low=0.0, high=10.0),
    _p('gripper.enabled', 'bool', False, 'Drive a gripper from one action element'),
    _p('gripper.action_index', 'integer', -1, 'Action element of the gripper (-1: last)'),
    _p('gripper.close_above', 'double', 0.5, 'Close when the element rises above this'),
    _p('gripper.open_below', 'double', -0.5, 'Open when the element falls below this'),
    _p('gripper.output', 'string', 'width',
       'width: a std_msgs/Float64 on gripper.topic; action: a goal to gripper.open_action '
       '(and gripper.close_action) on each change', choices=('width', 'action')),
    _p('gripper.topic', 'string', 'gripper/width', 'std_msgs/Float64 width command topic'),
    _p('gripper.open_action', 'string', '',
       'Action server and type that opens, "NAME TYPE", e.g. "fr3_gripper/move '
       'franka_msgs/action/Move"'),
    _p('gripper.close_action', 'string', '',
       'Action server and type that closes (default: open_action), e.g. '
       '"fr3_gripper/grasp franka_msgs/action/Grasp"'),
    # Upper bounds catch unit mistakes (mm/s for m/s); the Franka Hand's peak force is 140 N.
    _p('gripper.speed', 'double', 0.1, 'Finger speed in action goals (m/s)', low=0.0,
       high=0.5),
    _p('gripper.force', 'double', 20.0, 'Grasp force in action goals that have one (N)',
       low=0.0, high=140.0),
    _p('gripper.epsilon', 'double', 0.08,
       'Grasp width tolerance, inner and outer, in goals that have one (m): wide, so any '
       'object counts as grasped', low=0.0),
    _p('gripper.open_width', 'double', 0.08, 'Width sent to open (m)', low=0.0, high=1.0),
    _p('gripper.closed_width', 'double', 0.0, 'Width sent to close (m)', low=0.0, high=1.0),
    _p('limits.lower', 'double_array', None, 'Joint position lower limits (rad), command order'),
    _p('limits.upper', 'double_array', None, 'Joint position upper limits (rad), command order'),
    _p('limits.velocity', 'double_array', None, 'Joint velocity limits (rad/s)', low=0.0),
    _p('limits.acceleration', 'double_array', None, 'Joint acceleration limits (rad/s^2)',
       low=0.0),
    _p('limits.max_step', 'double_array', None,
       'Largest change of one command element per cycle', low=0.0),
    _p('limits.linear_velocity', 'double', 0.0, 'Cartesian speed limit (m/s)', low=0.0),
    _p('limits.linear_acceleration', 'double', 0.0, 'Cartesian acceleration limit (m/s^2)',
       low=0.0),
    _p('limits.angular_velocity', 'double', 0.0, 'Rotation speed limit (rad/s)', low=0.0),
    _p('limits.angular_acceleration', 'double', 0.0, 'Rotation acceleration limit (rad/s^2)',
       low=0.0),
    _p('limits.workspace_lower', 'double_array', None, 'Target pose box, lower x y z (m)'),
    _p('limits.workspace_upper', 'double_array', None, 'Target pose box, upper x y z (m)'),
    _p('limits.translation_step', 'double', 0.0,
       'Pose commands: largest move of the target along one axis per cycle (m); 0: none',
       low=0.0),
    _p('limits.hold_value', 'double_array', None,
       'For array commands: the value a hold moves toward (default zeros)'),
)

OBS_TEMPLATE: Tuple[ParameterSpec, ...] = (
    _p('topic', 'string', '', 'Topic this observation key comes from'),
    _p('type', 'string', '', 'Message type of the topic', choices=INPUT_TYPES),
    _p('field', 'string', '',
       'joint_state: position|velocity|effort; pose_stamped: position|orientation|pose'),
    _p('joints', 'string_array', None,
       "joint_state: joint names, in the order the key expects; ['*']: every position in "
       'message order (vectors the robosuite bridge publishes)'),
    _p('indices', 'integer_array', None, 'float64_multi_array: elements to take', low=0),
    _p('reliability', 'string', '',
       'QoS reliability; default best_effort for images, reliable otherwise',
       choices=RELIABILITIES + ('',)),
    _p('depth', 'integer', 0, 'QoS history depth; 0 means 1 (only the newest message is used)',
       low=0, high=1000),
    _p('resize', 'bool', False, 'Images: resize to the bundle size instead of rejecting'),
)


def obs_parameters(key: str) -> Tuple[ParameterSpec, ...]:
    """Return the parameters that map one observation key to a topic."""
    return tuple(spec.with_prefix(f'obs.{key}') for spec in OBS_TEMPLATE)


def parameter_names(observation_keys=()) -> Tuple[str, ...]:
    """Return every parameter name the node declares for these observation keys."""
    names = [spec.name for spec in PARAMETERS]
    for key in observation_keys:
        names.extend(spec.name for spec in obs_parameters(key))
    return tuple(names)


def flatten(tree: Mapping, prefix: str = '') -> dict:
    """Return nested YAML mappings as dotted parameter names, the way ROS 2 reads them."""
    flat = {}
    for name, value in tree.items():
        dotted = f'{prefix}{name}'
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + '.'))
        else:
            flat[dotted] = value
    return flat


def shipped_config(name: str) -> Path:
    """Return config/<name> of this package, from the checkout or the installed share."""
    local = Path(__file__).resolve().parents[2] / 'config' / name
    if local.is_file():
        return local
    from ament_index_python.packages import get_package_share_directory
    return Path(get_package_share_directory('darp_ros')) / 'config' / name


def read_parameter_file(path, node_name: str = 'policy_node') -> dict:
    """
    Read a ROS 2 parameter YAML file into {dotted name: value}.

    Sections for all nodes (/**) apply first, then the node's own section, as ros2 does.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f'cannot read parameter file {path}: {exc}') from None
    if not isinstance(data, Mapping):
        raise ConfigError(f'{path}: expected a mapping of node names, got {type(data).__name__}')
    flat, found = {}, False
    for section in ('/**', node_name, '/' + node_name):
        body = data.get(section)
        if body is None:
            continue
        if not isinstance(body, Mapping) or 'ros__parameters' not in body:
            raise ConfigError(f'{path}: section {section!r} has no ros__parameters')
        flat.update(flatten(body['ros__parameters'] or {}))
        found = True
    if not found:
        raise ConfigError(f'{path}: no section for /** or {node_name!r} '
                          f'(sections: {sorted(map(str, data))})')
    return flat
