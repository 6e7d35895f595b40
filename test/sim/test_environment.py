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

"""The environment layer: env_args, per-episode seeding, placement shift, bad input."""

from darp_ros.core.errors import ConfigError
from darp_ros.core.spec import ObservationSpec
from darp_ros.sim.environment import build_env, make_env_args, reset_with_seed
from darp_ros.sim.feature_names import aggregate_parts, feature_names
from darp_ros.sim.observations import dataset_obs
from darp_ros.sim.tasks import DEFAULT_OBS_KEYS, task_spec
import numpy as np
import pytest


@pytest.fixture(scope='module')
def lift_env():
    env = build_env(make_env_args('Lift'))
    yield env
    env.close()


def test_env_args_rebuild_the_environment_from_json_types():
    args = make_env_args('Lift')
    assert args['env_name'] == 'Lift' and args['type'] == 1
    kwargs = args['env_kwargs']
    assert kwargs['control_freq'] == 20 and kwargs['robots'] == ['Panda']
    assert kwargs['controller_configs']['body_parts']['right']['type'] == 'OSC_POSE'
    assert not kwargs['use_camera_obs']


def test_same_seed_gives_same_initial_state_whatever_came_before(lift_env):
    first = dataset_obs(reset_with_seed(lift_env, 7), ())
    for _ in range(5):
        lift_env.step(np.ones(7) * 0.5)
    reset_with_seed(lift_env, 8)
    again = dataset_obs(reset_with_seed(lift_env, 7), ())
    other = dataset_obs(reset_with_seed(lift_env, 8), ())
    for key in first:
        np.testing.assert_array_equal(first[key], again[key], err_msg=key)
    assert not np.allclose(first['cube_pos'], other['cube_pos'])


def test_observations_use_robomimic_names(lift_env):
    obs = dataset_obs(reset_with_seed(lift_env, 0), ())
    for key in ('robot0_eef_pos', 'robot0_eef_quat', 'robot0_gripper_qpos', 'object'):
        assert key in obs and obs[key].dtype == np.float64
    assert 'robot0_proprio-state' not in obs and 'object-state' not in obs


def test_every_dimension_of_the_object_aggregate_is_named_after_its_part(lift_env):
    obs = dataset_obs(reset_with_seed(lift_env, 3), ())
    spec = ObservationSpec.from_shapes({k: obs[k].shape for k in DEFAULT_OBS_KEYS})
    names = feature_names(spec, obs)
    assert len(names) == spec.feature_dim
    assert names[:3] == ['robot0_eef_pos[0]', 'robot0_eef_pos[1]', 'robot0_eef_pos[2]']
    start = spec.feature_dim - obs['object'].size
    for value, name in zip(obs['object'], names[start:]):
        part, index = name[:-1].split('[')
        assert part != 'object' and obs[part][int(index)] == value, name
    assert {'cube_pos[0]', 'cube_quat[3]', 'gripper_to_cube_pos[2]'} <= set(names)
    # Without a rollout's observation, or parts that do not tile it: plain indices.
    assert feature_names(spec)[start:start + 2] == ['object[0]', 'object[1]']
    assert aggregate_parts({'object': obs['object'], 'cube_pos': obs['cube_pos'] + 1}) is None
    # A run of zeros (joint velocities at reset) fits anywhere, so it is never taken as a part.
    assert aggregate_parts({'object': np.array([0.0, 0.0, 2.0]), 'robot0_joint_vel': np.zeros(2),
                            'cube_z': np.array([2.0])}) is None


def test_placement_scale_widens_the_initial_object_range():
    def spread(scale):
        env = build_env(make_env_args('Lift'), placement_scale=scale)
        cubes = np.array([reset_with_seed(env, s)['cube_pos'][:2] for s in range(30)])
        env.close()
        return np.abs(cubes - cubes.mean(axis=0)).max()
    nominal, wide = spread(1.0), spread(2.0)
    assert nominal <= 0.031 and wide > 0.035


@pytest.mark.parametrize('call, message', [
    (lambda: make_env_args('Juggle'), "unknown task 'Juggle'; known tasks: Lift"),
    (lambda: make_env_args('Lift', cameras=['ceiling']), "unknown camera 'ceiling'"),
    (lambda: build_env({'env_kwargs': {}}), 'env_args has no env_name'),
    (lambda: build_env({'env_name': 'Lift', 'type': 2}), 'is not a robosuite environment'),
    (lambda: task_spec('lift'), "unknown task 'lift'"),
])
def test_bad_environment_descriptions_name_the_problem(call, message):
    with pytest.raises(ConfigError, match=message.replace('(', r'\(')):
        call()
