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

"""Tests of darp_ros.data.demos and darp_ros.data.hdf5 on real HDF5 files."""

import json
import os

from darp_ros.core.errors import ConfigError, DatasetError
from darp_ros.data.demos import DemoDataset, Episode, is_image_key_shape, validate_episode
from darp_ros.data.hdf5 import inspect_demos, read_demos
from darp_ros.data.hdf5_writer import write_demos
import h5py
import numpy as np
import pytest

ENV_ARGS = {'env_name': 'Lift', 'type': 1, 'env_kwargs': {'robots': ['Panda']}}
KEYS = ('eef_pos', 'agentview_image')


def make_episode(name, length, seed=0, action_dim=7):
    """Build a small episode with a low-dim key, a uint8 image key, rewards and dones."""
    rng = np.random.default_rng(seed)
    dones = np.zeros(length, dtype=np.int64)
    dones[-1] = 1
    return Episode(
        name=name,
        obs={'eef_pos': rng.normal(size=(length, 3)).astype(np.float32),
             'agentview_image': rng.integers(0, 256, (length, 8, 8, 3), dtype=np.uint8)},
        actions=rng.uniform(-1, 1, (length, action_dim)).astype(np.float32),
        rewards=rng.uniform(size=length),
        dones=dones)


def write_robomimic_file(path, names=('demo_10', 'demo_2', 'demo_1'), lengths=(4, 5, 6)):
    """Write a file with raw h5py exactly as robomimic's dataset tools lay it out."""
    with h5py.File(path, 'w') as f:
        data = f.create_group('data')
        total = 0
        for name, length in zip(names, lengths):
            n = int(name.split('_')[1])
            grp = data.create_group(name)
            grp.attrs['num_samples'] = length
            grp.create_dataset('actions', data=np.full((length, 7), n, dtype=np.float64))
            grp.create_dataset('rewards', data=np.arange(length, dtype=np.float64))
            grp.create_dataset('dones', data=np.eye(1, length, length - 1, dtype=np.int64)[0])
            grp.create_dataset('states', data=np.zeros((length, 32)))
            for group in ('obs', 'next_obs'):
                grp.create_dataset(f'{group}/robot0_eef_pos', data=np.full((length, 3), n + 0.5))
                grp.create_dataset(f'{group}/object', data=np.zeros((length, 10)))
                grp.create_dataset(
                    f'{group}/agentview_image', data=np.full((length, 84, 84, 3), n, np.uint8))
            total += length
        data.attrs['total'] = total
        data.attrs['env_args'] = json.dumps(ENV_ARGS)
        f.create_dataset('mask/train', data=np.array([b'demo_10', b'demo_1'], dtype='S8'))
        f.create_dataset('mask/valid', data=np.array([b'demo_2'], dtype='S8'))


def test_round_trip_preserves_arrays(tmp_path):
    """Written episodes read back with equal arrays, dtypes and robomimic attributes."""
    path = tmp_path / 'demos.hdf5'
    episodes = [make_episode('demo_0', 5, seed=1), make_episode('demo_1', 3, seed=2)]
    write_demos(path, episodes, ENV_ARGS)
    ds = read_demos(path, KEYS)
    assert ds.env_args == ENV_ARGS
    assert ds.obs_keys == KEYS
    assert [ep.name for ep in ds.episodes] == ['demo_0', 'demo_1']
    assert (len(ds), ds.num_samples, ds.action_dim) == (2, 8, 7)
    assert ds.key_shapes() == {'eef_pos': (3,), 'agentview_image': (8, 8, 3)}
    assert ds.image_keys() == ('agentview_image',)
    for got, want in zip(ds.episodes, episodes):
        assert got.actions.dtype == np.float32
        assert got.obs['eef_pos'].dtype == np.float32
        assert got.obs['agentview_image'].dtype == np.uint8
        np.testing.assert_array_equal(got.actions, want.actions)
        for key in KEYS:
            np.testing.assert_array_equal(got.obs[key], want.obs[key])
        np.testing.assert_array_equal(got.rewards, want.rewards)
        np.testing.assert_array_equal(got.dones, want.dones)
        assert got.states is None
    with h5py.File(path, 'r') as f:
        assert f['data'].attrs['total'] == 8
        assert f['data/demo_0'].attrs['num_samples'] == 5
        image = f['data/demo_0/obs/agentview_image']
        assert image.compression == 'gzip'
        assert image.chunks == (1, 8, 8, 3)


def test_write_renumbers_names_that_do_not_keep_order(tmp_path):
    """Names are kept only if numeric order matches the given order."""
    path = tmp_path / 'demos.hdf5'
    write_demos(path, [make_episode('demo_5', 3), make_episode('demo_2', 4)], ENV_ARGS,
                compression=None)
    ds = read_demos(path, ['eef_pos'])
    assert [ep.name for ep in ds.episodes] == ['demo_0', 'demo_1']
    assert [len(ep) for ep in ds.episodes] == [3, 4]
    write_demos(path, [make_episode('demo_1', 3), make_episode('demo_7', 4)], ENV_ARGS,
                overwrite=True)
    assert [ep.name for ep in read_demos(path, ['eef_pos']).episodes] == ['demo_1', 'demo_7']


def test_robomimic_layout_loads_in_numeric_order(tmp_path):
    """A raw robomimic file loads with demo_1, demo_2, demo_10 ordering."""
    path = tmp_path / 'robomimic.hdf5'
    write_robomimic_file(path)
    ds = read_demos(path, ['robot0_eef_pos', 'agentview_image'])
    assert [ep.name for ep in ds.episodes] == ['demo_1', 'demo_2', 'demo_10']
    assert [len(ep) for ep in ds.episodes] == [6, 5, 4]
    assert ds.episodes[2].actions[0, 0] == 10.0
    assert ds.episodes[2].actions.dtype == np.float32
    assert ds.episodes[0].obs['robot0_eef_pos'].dtype == np.float32
    assert ds.episodes[0].obs['agentview_image'].dtype == np.uint8
    assert ds.episodes[0].states.shape == (6, 32)
    np.testing.assert_array_equal(ds.episodes[1].rewards, np.arange(5))
    assert ds.episodes[1].dones.tolist() == [0, 0, 0, 0, 1]
    assert ds.env_args == ENV_ARGS
    assert ds.image_keys() == ('agentview_image',)
    assert ds.key_shapes()['agentview_image'] == (84, 84, 3)


def test_filter_key_and_named_demos(tmp_path):
    """Mask filter keys and explicit demo names select demos in numeric order."""
    path = tmp_path / 'robomimic.hdf5'
    write_robomimic_file(path)
    train = read_demos(path, ['object'], filter_key='train')
    assert [ep.name for ep in train.episodes] == ['demo_1', 'demo_10']
    valid = read_demos(path, ['object'], filter_key='valid')
    assert [ep.name for ep in valid.episodes] == ['demo_2']
    picked = read_demos(path, ['object'], demos=['demo_10', 'demo_2'])
    assert [ep.name for ep in picked.episodes] == ['demo_2', 'demo_10']


def test_obs_key_subset(tmp_path):
    """Only the requested observation keys are loaded."""
    path = tmp_path / 'robomimic.hdf5'
    write_robomimic_file(path)
    ds = read_demos(path, ['object'])
    assert ds.obs_keys == ('object',)
    assert set(ds.episodes[0].obs) == {'object'}
    assert ds.image_keys() == ()
    assert ds.key_shapes() == {'object': (10,)}


def test_inspect_demos_reads_shapes_only(tmp_path):
    """The summary reports counts, env name and per-sample shapes and dtypes."""
    path = tmp_path / 'robomimic.hdf5'
    write_robomimic_file(path)
    summary = inspect_demos(path)
    assert summary.path == str(path)
    assert (summary.num_demos, summary.num_samples, summary.action_dim) == (3, 15, 7)
    assert summary.env_name == 'Lift'
    assert summary.obs == {'robot0_eef_pos': ((3,), 'float64'), 'object': ((10,), 'float64'),
                           'agentview_image': ((84, 84, 3), 'uint8')}


def test_inspect_demos_does_not_load_arrays(tmp_path):
    """Inspection succeeds on a file whose array data cannot be read."""
    # Reading never-written datasets would succeed (fill value), so back them with external
    # raw files that do not exist: any attempt to load the arrays would fail.
    path = tmp_path / 'lazy.hdf5'
    with h5py.File(path, 'w') as f:
        data = f.create_group('data')
        data.attrs['env_args'] = json.dumps(ENV_ARGS)
        grp = data.create_group('demo_0')
        grp.create_dataset('actions', shape=(50, 4), dtype='f4',
                           external=[(str(tmp_path / 'gone.bin'), 0, 50 * 4 * 4)])
        grp.create_dataset('obs/cam_image', shape=(50, 16, 16, 3), dtype='u1',
                           external=[(str(tmp_path / 'gone2.bin'), 0, 50 * 16 * 16 * 3)])
    summary = inspect_demos(path)
    assert (summary.num_demos, summary.num_samples, summary.action_dim) == (1, 50, 4)
    assert summary.obs == {'cam_image': ((16, 16, 3), 'uint8')}
    # The arrays really are unreadable, so a full read fails naming the demo and key.
    with pytest.raises(DatasetError) as info:
        read_demos(path, ['cam_image'])
    assert "demo 'demo_0', key 'cam_image'" in str(info.value) and 'lazy.hdf5' in str(info.value)


def test_write_refuses_overwrite(tmp_path):
    """An existing file is kept unless overwrite=True."""
    path = tmp_path / 'demos.hdf5'
    write_demos(path, [make_episode('demo_0', 3)], ENV_ARGS)
    with pytest.raises(DatasetError, match='exists'):
        write_demos(path, [make_episode('demo_0', 4)], ENV_ARGS)
    assert len(read_demos(path, ['eef_pos']).episodes[0]) == 3
    write_demos(path, [make_episode('demo_0', 4)], ENV_ARGS, overwrite=True)
    assert len(read_demos(path, ['eef_pos']).episodes[0]) == 4


def test_write_of_bad_episode_leaves_no_file(tmp_path):
    """A NaN in an episode fails before any file is created."""
    path = tmp_path / 'bad.hdf5'
    bad = make_episode('demo_1', 4)
    bad.obs['eef_pos'][2, 1] = np.nan
    with pytest.raises(DatasetError) as info:
        write_demos(path, [make_episode('demo_0', 3), bad], ENV_ARGS)
    assert "demo 'demo_1'" in str(info.value) and "'eef_pos'" in str(info.value)
    assert 'sample 2' in str(info.value)
    assert os.listdir(tmp_path) == []


def test_write_rejects_unserializable_env_args_and_mismatched_keys(tmp_path):
    """Bad env_args or differing obs keys fail and write nothing."""
    path = tmp_path / 'bad.hdf5'
    with pytest.raises(DatasetError, match='JSON'):
        write_demos(path, [make_episode('demo_0', 3)], {'bad': object()})
    other = Episode('demo_1', {'eef_pos': np.zeros((2, 3))}, np.zeros((2, 7)))
    with pytest.raises(DatasetError, match="demo 'demo_1'"):
        write_demos(path, [make_episode('demo_0', 3), other], ENV_ARGS)
    assert os.listdir(tmp_path) == []


def _edit_file(path, edit):
    write_robomimic_file(path)
    with h5py.File(path, 'a') as f:
        edit(f)


@pytest.mark.parametrize('edit, keys, fragments', [
    (lambda f: None, ['nope'], ["'demo_1'", "'nope'", 'robot0_eef_pos']),
    (lambda f: _replace(f, 'data/demo_2/obs/object', np.zeros((4, 10))),
     ['object'], ["'demo_2'", "'object'", '4', '5']),
    (lambda f: _replace(f, 'data/demo_10/actions', np.full((4, 7), np.inf)),
     ['object'], ["'demo_10'", "'actions'", 'sample 0']),
    (lambda f: _set(f, 'data/demo_2/obs/object', 3, np.nan),
     ['object'], ["'demo_2'", "'object'", 'sample 3']),
    (lambda f: _replace(f, 'data/demo_1/actions', np.zeros(6)),
     ['object'], ["'demo_1'", "'actions'", '2-D']),
    (lambda f: _replace(f, 'data/demo_2/obs/agentview_image', np.zeros((5, 84, 84, 3))),
     ['agentview_image'], ["'demo_2'", "'agentview_image'", 'uint8', 'float64']),
    (lambda f: _replace(f, 'data/demo_10/obs/object', np.zeros((4, 11))),
     ['object'], ["'demo_10'", "'object'", "'demo_1'", '(11,)', '(10,)']),
    (lambda f: _replace(f, 'data/demo_2/actions', np.zeros((5, 6))),
     ['object'], ["'demo_2'", "'actions'", "'demo_1'", '6', '7']),
])
def test_read_errors_name_demo_and_key(tmp_path, edit, keys, fragments):
    """Each malformed file gives a DatasetError naming path, demo and key."""
    path = tmp_path / 'edited.hdf5'
    _edit_file(path, edit)
    with pytest.raises(DatasetError) as info:
        read_demos(path, keys)
    message = str(info.value)
    for fragment in [str(path)] + fragments:
        assert fragment in message


def _replace(f, name, value):
    del f[name]
    f.create_dataset(name, data=value)


def _set(f, name, index, value):
    f[name][index] = value


def test_read_empty_demo(tmp_path):
    """A demo with zero samples is rejected by name."""
    path = tmp_path / 'empty.hdf5'
    write_robomimic_file(path, names=('demo_0', 'demo_1'), lengths=(3, 0))
    with pytest.raises(DatasetError) as info:
        read_demos(path, ['object'])
    assert "'demo_1'" in str(info.value) and 'empty' in str(info.value)


def test_read_file_level_errors(tmp_path):
    """Missing, non-HDF5, data-less and demo-less files are rejected."""
    missing = tmp_path / 'missing.hdf5'
    with pytest.raises(DatasetError, match='no such file'):
        read_demos(missing, ['object'])
    text = tmp_path / 'text.hdf5'
    text.write_text('not hdf5')
    with pytest.raises(DatasetError, match='not an HDF5 file'):
        read_demos(text, ['object'])
    with pytest.raises(DatasetError, match='not an HDF5 file'):
        inspect_demos(text)
    no_data = tmp_path / 'no_data.hdf5'
    with h5py.File(no_data, 'w') as f:
        f.create_group('other')
    with pytest.raises(DatasetError, match="no 'data' group"):
        read_demos(no_data, ['object'])
    no_demos = tmp_path / 'no_demos.hdf5'
    with h5py.File(no_demos, 'w') as f:
        f.create_group('data').attrs['env_args'] = '{}'
    with pytest.raises(DatasetError, match='no demos'):
        read_demos(no_demos, ['object'])
    with pytest.raises(DatasetError, match='no demos'):
        inspect_demos(no_demos)


def test_read_selection_and_env_args_errors(tmp_path):
    """Unknown demos or filter keys, empty obs_keys and bad JSON are rejected."""
    path = tmp_path / 'robomimic.hdf5'
    write_robomimic_file(path)
    with pytest.raises(DatasetError) as info:
        read_demos(path, ['object'], demos=['demo_3'])
    assert 'demo_3' in str(info.value) and 'demo_10' in str(info.value)
    with pytest.raises(DatasetError) as info:
        read_demos(path, ['object'], filter_key='test')
    assert "'test'" in str(info.value) and 'train' in str(info.value)
    with pytest.raises(DatasetError, match='obs_keys'):
        read_demos(path, [])
    with h5py.File(path, 'a') as f:
        f['data'].attrs['env_args'] = '{not json'
    with pytest.raises(DatasetError, match='env_args'):
        read_demos(path, ['object'])


def test_validate_episode_and_dataset_directly():
    """Validation works on in-memory episodes without any file."""
    ep = make_episode('demo_0', 4)
    validate_episode(ep, KEYS)
    with pytest.raises(DatasetError, match="demo 'demo_0', key 'missing'"):
        validate_episode(ep, ['missing'])
    with pytest.raises(DatasetError, match="key 'rewards'"):
        validate_episode(Episode('demo_0', ep.obs, ep.actions, rewards=np.zeros(3)), KEYS)
    with pytest.raises(DatasetError, match="demo 'demo_1', key 'agentview_image'"):
        DemoDataset((ep, Episode('demo_1', {**ep.obs, 'agentview_image': np.zeros(
            (4, 8, 8, 4), np.uint8)}, ep.actions)), ENV_ARGS, KEYS)
    with pytest.raises(DatasetError, match='no episodes'):
        DemoDataset((), ENV_ARGS, KEYS)
    assert is_image_key_shape((84, 84, 3), np.uint8)
    assert not is_image_key_shape((84, 84, 3), np.float32)
    assert not is_image_key_shape((3,), np.uint8)


def test_raw_robosuite_file_is_inspected_and_read_errors_list_keys(tmp_path):
    """A raw robosuite file inspects, and reading obs keys it lacks fails clearly."""
    # robosuite's collect_human_demonstrations writes env/env_info and states, but no obs.
    path = tmp_path / 'robosuite.hdf5'
    with h5py.File(path, 'w') as f:
        data = f.create_group('data')
        data.attrs['env'] = 'Lift'
        data.attrs['env_info'] = json.dumps({'robots': 'Panda'})
        grp = data.create_group('demo_1')
        grp.attrs['model_file'] = '<mujoco/>'
        grp.create_dataset('states', data=np.zeros((5, 20)))
        grp.create_dataset('actions', data=np.zeros((5, 7)))
    summary = inspect_demos(path)
    assert (summary.env_name, summary.num_demos, summary.num_samples) == ('Lift', 1, 5)
    assert summary.obs == {}
    with pytest.raises(DatasetError) as info:
        read_demos(path, ['robot0_eef_pos'])
    assert "demo 'demo_1', key 'robot0_eef_pos'" in str(info.value)
    assert 'available keys: []' in str(info.value)


def test_write_rejects_non_episodes_and_bad_compression(tmp_path):
    """Non-Episode input and unknown compression are rejected before writing."""
    with pytest.raises(DatasetError, match='Episode'):
        write_demos(tmp_path / 'x.hdf5', [{'actions': np.zeros((2, 7))}], ENV_ARGS)
    with pytest.raises(ConfigError, match='compression'):
        write_demos(tmp_path / 'x.hdf5', [make_episode('demo_0', 2)], ENV_ARGS,
                    compression='zstd')
    assert os.listdir(tmp_path) == []


def test_failure_during_write_removes_partial_file(tmp_path):
    """An h5py failure after demo_0 is written leaves neither the target nor a temp file."""
    # timedelta64 passes the numeric check but h5py has no HDF5 type for it, so the
    # write fails part way through, after the first demo's datasets exist.
    good = make_episode('demo_0', 3)
    bad = Episode('demo_1', make_episode('x', 3).obs, np.zeros((3, 7)),
                  states=np.zeros((3, 2), dtype='m8[s]'))
    with pytest.raises(DatasetError, match='writing failed'):
        write_demos(tmp_path / 'partial.hdf5', [good, bad], ENV_ARGS)
    assert os.listdir(tmp_path) == []
