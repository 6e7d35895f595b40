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

"""A broken bundle gives a BundleError naming what is wrong, never a library traceback."""

import json
import pickle
import shutil

from darp_ros.core.bundle import FORMAT_VERSION, load_bundle, save_bundle
from darp_ros.core.errors import BundleError
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.safe_io import read_tensors, write_tensors
from darp_ros.core.training import TrainConfig
import pytest
import torch


class Payload:
    """Unpickling this would run code; a bundle must refuse before that happens."""

    def __reduce__(self):
        return (print, ('pickle payload executed',))


@pytest.fixture(scope='module')
def bundle_dir(tmp_path_factory, small_episodes):
    options = TrainOptions('darp', ('pos', 'extra'), {'k': 4},
                           TrainConfig(epochs=1, progress=False), device='cpu')
    return save_bundle(train_model(small_episodes, options),
                       tmp_path_factory.mktemp('b') / 'bundle')


@pytest.fixture
def broken(tmp_path, bundle_dir):
    copy = tmp_path / 'copy'
    shutil.copytree(bundle_dir, copy)
    return copy


def edit_manifest(path, change):
    data = json.loads((path / 'bundle.json').read_text())
    change(data)
    (path / 'bundle.json').write_text(json.dumps(data))


@pytest.mark.parametrize('name', ['policy.safetensors', 'normalizer.safetensors',
                                  'memory.safetensors', 'bundle.json'])
def test_missing_file_is_named(broken, name):
    (broken / name).unlink()
    with pytest.raises(BundleError, match=name.replace('.', r'\.')):
        load_bundle(broken, 'cpu')


def test_missing_index_is_named(broken):
    shutil.rmtree(broken / 'index')
    with pytest.raises(BundleError, match='index'):
        load_bundle(broken, 'cpu')


@pytest.mark.parametrize('name', ['policy.safetensors', 'memory.safetensors'])
def test_pickle_in_place_of_weights_is_refused_without_running_it(broken, name, capsys):
    (broken / name).write_bytes(pickle.dumps(Payload()))
    with pytest.raises(BundleError, match='pickle'):
        load_bundle(broken, 'cpu')
    assert 'payload executed' not in capsys.readouterr().out


def test_torch_save_file_in_place_of_weights_is_refused(broken):
    torch.save({'network.x': torch.zeros(2)}, broken / 'policy.safetensors')
    with pytest.raises(BundleError, match='pickle'):
        load_bundle(broken, 'cpu')


def test_future_format_version_asks_for_an_upgrade(broken):
    edit_manifest(broken, lambda d: d.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(BundleError, match='newer'):
        load_bundle(broken, 'cpu')


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match='not a directory'):
        load_bundle(tmp_path / 'nowhere', 'cpu')
    (tmp_path / 'bundle.json').write_text('{"format": "something else"}')
    with pytest.raises(BundleError, match='not a darp_ros model bundle'):
        load_bundle(tmp_path, 'cpu')
    (tmp_path / 'bundle.json').write_text('{not json')
    with pytest.raises(BundleError, match='not valid JSON'):
        load_bundle(tmp_path, 'cpu')


def test_changed_observation_shape_is_named(broken):
    edit_manifest(broken, lambda d: d['observation']['keys'][1].update(shape=[5]))
    with pytest.raises(BundleError, match='state_dim'):
        load_bundle(broken, 'cpu')


def test_changed_weight_shape_is_named(broken):
    tensors = read_tensors(broken / 'policy.safetensors')
    key = next(k for k in tensors if k.endswith('weight'))
    tensors[key] = torch.zeros(3, 3)
    write_tensors(broken / 'policy.safetensors', tensors)
    with pytest.raises(BundleError, match='size mismatch'):
        load_bundle(broken, 'cpu')


def test_changed_memory_shape_is_named(broken):
    tensors = read_tensors(broken / 'memory.safetensors')
    tensors['actions'] = tensors['actions'][:, :1].contiguous()
    write_tensors(broken / 'memory.safetensors', tensors)
    with pytest.raises(BundleError, match="'actions' has shape"):
        load_bundle(broken, 'cpu')


def test_unknown_policy_and_option_are_named(broken):
    edit_manifest(broken, lambda d: d['policy']['config'].update(colour='red'))
    with pytest.raises(BundleError, match='colour'):
        load_bundle(broken, 'cpu')
    edit_manifest(broken, lambda d: d['policy'].update(name='magic'))
    with pytest.raises(BundleError, match="unknown policy 'magic'"):
        load_bundle(broken, 'cpu')


def test_save_refuses_to_overwrite_and_leaves_nothing_half_written(bundle_dir, tmp_path):
    model = load_bundle(bundle_dir, 'cpu')
    with pytest.raises(BundleError, match='already exists'):
        save_bundle(model, bundle_dir)
    out = save_bundle(model, tmp_path / 'again')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['again']
    assert (out / 'bundle.json').is_file()
