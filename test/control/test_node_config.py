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


"""Node configuration from flat ROS parameters: defaults, checks, command mapping."""

from darp_ros.control.node_config import check_against_bundle, node_config
from darp_ros.control.node_parameters import read_parameter_file
from darp_ros.core.errors import ConfigError
from darp_ros.core.rotations import exp_map, relative_rotation
from darp_ros.core.spec import ObservationSpec
import numpy as np
import pytest

BASE = {
    'observation_keys': ['joints', 'pose'],
    'obs.joints.topic': 'joint_states', 'obs.joints.type': 'joint_state',
    'obs.joints.joints': ['a', 'b'],
    'obs.pose.topic': 'pose', 'obs.pose.type': 'pose_stamped', 'obs.pose.field': 'pose',
}
SPEC = ObservationSpec.from_shapes({'joints': (2,), 'pose': (7,)})


def config(**changes):
    """Return a NodeConfig from BASE with changes (dots written as __)."""
    return node_config({**BASE, **{k.replace('__', '.'): v for k, v in changes.items()}})


def test_defaults_fill_in_and_topics_group_keys():
    cfg = config(obs__pose__topic='joint_states', obs__pose__type='joint_state',
                 obs__pose__joints=['c'] * 7, obs__pose__field='velocity')
    assert cfg.device == 'auto' and cfg.fault_behavior == 'hold'
    assert list(cfg.topics()) == ['joint_states']
    assert not cfg.input_for('joints').best_effort and cfg.input_for('joints').history_depth == 1


def test_images_default_to_best_effort_depth_one():
    cfg = node_config({'observation_keys': ['cam'], 'obs.cam.topic': 'c',
                       'obs.cam.type': 'compressed_image'})
    mapping = cfg.input_for('cam')
    assert mapping.is_image and mapping.best_effort and mapping.history_depth == 1


@pytest.mark.parametrize('changes, words', [
    ({'observation_keys': []}, 'observation_keys is empty'),
    ({'obs.joints.topic': ''}, 'obs.joints.topic'),
    ({'obs.joints.type': 'laser_scan'}, "'laser_scan' is not one of"),
    ({'obs.joints.joints': None}, 'obs.joints.joints'),
    ({'obs.pose.field': 'velocity'}, "'velocity' is not one of"),
    ({'max_input_age_s': -1.0}, 'max_input_age_s'),
    ({'control_rate_hz': 'fast'}, 'expected double'),
    ({'fault_behavior': 'panic'}, 'fault_behavior'),
    ({'fault_behavior': 'silent', 'command.type': 'joint_velocity', 'command.state_keys':
      ['joints']}, "'silent' is refused for command.type joint_velocity"),
    ({'fault_behavior': 'silent', 'command.type': 'twist'}, 'keep moving'),
    ({'gripper.enabled': True, 'gripper.open_below': 0.6}, 'hysteresis'),
    ({'gripper.enabled': True, 'gripper.closed_width': 0.08}, 'closing would open'),
    ({'gripper.enabled': True, 'gripper.speed': 100.0}, 'gripper.speed'),
    ({'gripper.enabled': True, 'gripper.force': 700.0}, 'gripper.force'),
    ({'command.relative_to': ['missing']}, "command key 'missing'"),
    ({'require_stamps': True, 'observation_keys': ['joints', 'width'],
      'obs.width.topic': 'w', 'obs.width.type': 'float64_multi_array'},
     r"require_stamps needs stamped inputs; \['width'\]"),
    ({'limits.velocity': [1.0, float('nan')]}, 'not finite'),
    ({'gripper.enabled': True, 'gripper.output': 'action', 'gripper.open_action': 'move'},
     'SERVER PACKAGE/action/TYPE'),
])
def test_bad_parameters_name_themselves(changes, words):
    with pytest.raises(ConfigError, match=words):
        node_config({**BASE, **changes})


def test_check_against_bundle_names_each_mismatch():
    check_against_bundle(config(), SPEC, 3)
    with pytest.raises(ConfigError, match='yields 2 values'):
        check_against_bundle(config(), ObservationSpec.from_shapes(
            {'joints': (3,), 'pose': (7,)}), 3)
    with pytest.raises(ConfigError, match='do not match the bundle keys'):
        check_against_bundle(config(), ObservationSpec.from_shapes({'joints': (2,)}), 3)
    with pytest.raises(ConfigError, match='outside the action'):
        check_against_bundle(config(command__action_indices=[0, 5]), SPEC, 3)
    with pytest.raises(ConfigError, match='gripper.action_index 4'):
        check_against_bundle(config(gripper__enabled=True, gripper__action_index=4), SPEC, 3)
    with pytest.raises(ConfigError, match='command.scale has 1 entries'):
        check_against_bundle(config(command__scale=[1.0]), SPEC, 3)


def test_command_is_scaled_offset_and_added_to_the_relative_keys():
    cfg = config(command__scale=[2.0, 3.0], command__offset=[1.0, 0.0],
                 command__relative_to=['joints'])
    obs = {'joints': np.array([0.5, -0.5]), 'pose': np.zeros(7)}
    indices = cfg.command.indices_for(3, gripper_index=2)
    assert indices == (0, 1)
    np.testing.assert_allclose(cfg.command.command(np.array([1.0, 1.0, 9.0]), obs, indices),
                               [3.5, 2.5])


def test_a_pose_delta_moves_and_turns_the_measured_pose():
    cfg = config(command__type='pose', command__relative_to=['pose'],
                 command__state_keys=['pose'])
    start = exp_map(np.array([0.0, 0.0, 0.3]))
    obs = {'joints': np.zeros(2), 'pose': np.concatenate([[0.4, 0.0, 0.2], start])}
    delta = np.array([0.01, 0.0, -0.02, 0.0, 0.0, 0.1])
    target = cfg.command.command(delta, obs, tuple(range(6)))
    np.testing.assert_allclose(target[:3], [0.41, 0.0, 0.18])
    np.testing.assert_allclose(relative_rotation(start, target[3:]), [0.0, 0.0, 0.1], atol=1e-12)
    np.testing.assert_allclose(cfg.command.state(obs), obs['pose'])


@pytest.mark.parametrize('changes', [
    {'command__scale': [2.0, 3.0], 'command__offset': [1.0, 0.0],
     'command__relative_to': ['joints']},
    {'command__type': 'pose', 'command__relative_to': ['pose'], 'command__state_keys': ['pose']},
    {'command__type': 'pose', 'command__state_keys': ['pose']},
], ids=['scaled-relative-joints', 'pose-delta', 'absolute-pose'])
def test_recorded_commands_map_back_to_the_actions_that_give_them(changes):
    # bag2hdf5 inverts the mapping: a model trained on the result commands what was recorded.
    cfg = config(**changes)
    rng = np.random.default_rng(0)
    pose = np.concatenate([[0.4, 0.0, 0.2], exp_map(np.array([0.1, -0.2, 0.3]))])
    obs = {'joints': np.array([0.5, -0.5]), 'pose': pose}
    width = 6 if cfg.command.relative_to and cfg.command.kind == 'pose' else \
        7 if cfg.command.kind == 'pose' else 2
    indices = tuple(range(width))
    for _ in range(20):
        action = rng.uniform(-0.3, 0.3, width)
        if width == 7:
            action[3:] = exp_map(action[3:6])
        command = cfg.command.command(action, obs, indices)
        np.testing.assert_allclose(cfg.command.action(command, obs, indices), action,
                                   atol=1e-12)


def test_command_limits_keep_only_what_the_command_type_reads():
    cfg = config(command__type='pose', limits__velocity=[1.0, 1.0], limits__max_step=[0.5] * 7,
                 limits__translation_step=0.01, limits__linear_velocity=0.2)
    assert cfg.command_limits() == {'max_step': 0.01, 'linear_velocity': 0.2}
    joints = config(limits__velocity=[1.0, 1.0], limits__linear_velocity=0.2)
    assert joints.command_limits() == {'velocity': (1.0, 1.0)}


def test_parameter_files_merge_wildcard_then_node_sections(tmp_path):
    path = tmp_path / 'p.yaml'
    path.write_text('/**:\n  ros__parameters:\n    device: cpu\n    obs:\n      a:\n'
                    '        topic: t\npolicy_node:\n  ros__parameters:\n    device: cuda\n')
    assert read_parameter_file(path) == {'device': 'cuda', 'obs.a.topic': 't'}
    (tmp_path / 'bad.yaml').write_text('other_node:\n  ros__parameters: {}\n')
    with pytest.raises(ConfigError, match='no section'):
        read_parameter_file(tmp_path / 'bad.yaml')
    with pytest.raises(ConfigError, match='cannot read'):
        read_parameter_file(tmp_path / 'missing.yaml')
