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

"""Encoder pretraining on demonstration images: it learns, saves safely, and trains policies."""

import dataclasses
import json

from darp_ros.cli.main import main
from darp_ros.core.encoder_pretraining import pretrain_encoder, PretrainConfig
from darp_ros.core.encoders import ImageEncoder
from darp_ros.core.errors import ConfigError
from darp_ros.core.image_preprocessing import ImagePreprocessing
from darp_ros.data.hdf5_writer import write_demos
from darp_ros.data.synthetic import ENV_ARGS, make_episodes
import numpy as np
import pytest
from safetensors import safe_open
import torch


@pytest.fixture(scope='module')
def image_demos(tmp_path_factory):
    path = tmp_path_factory.mktemp('pretrain') / 'images.hdf5'
    write_demos(path, make_episodes(6, 16, seed=0, image_size=32), ENV_ARGS)
    return path


def test_pretraining_lowers_the_loss_and_changes_the_features(image_demos):
    episodes = make_episodes(6, 16, seed=0, image_size=32)
    state, report = pretrain_encoder(episodes, ['camera'], [],
                                     PretrainConfig(epochs=4, batch_size=32, lr=1e-3,
                                                    image_size=32, progress=False))
    assert report['train_losses'][-1] < report['train_losses'][0]
    images = episodes[0].obs['camera']
    tuned = ImageEncoder.from_state_dict(state, ImagePreprocessing(size=32),
                                         ImageEncoder.random(0).weights)
    assert not np.allclose(tuned.encode(images), ImageEncoder.random(0, ImagePreprocessing(
        size=32)).encode(images))


def test_pretraining_is_reproducible_from_its_seed():
    # The image rows of docs/RESULTS.md pretrain the trunk again in a later session for
    # further policies, and compare them with rows trained on the first trunk: same data,
    # same seed must give the same weights (the saved file's hash differs anyway, as its
    # metadata records the wall time).
    episodes = make_episodes(4, 8, seed=0, image_size=32)
    config = PretrainConfig(epochs=1, batch_size=16, image_size=32, progress=False)
    first, _ = pretrain_encoder(episodes, ['camera'], ['pos'], config)
    again, _ = pretrain_encoder(episodes, ['camera'], ['pos'], config)
    assert first.keys() == again.keys()
    assert all(torch.equal(first[name], again[name]) for name in first)
    other, _ = pretrain_encoder(episodes, ['camera'], ['pos'],
                                dataclasses.replace(config, seed=1))
    assert not all(torch.equal(first[name], other[name]) for name in first)


def test_cli_writes_weights_that_darp_train_freezes_and_records(image_demos, tmp_path):
    weights = tmp_path / 'encoder.safetensors'
    assert main(['pretrain-encoder', '--dataset', str(image_demos), '--image-keys', 'camera',
                 '--low-dim-keys', 'pos', '--out', str(weights), '--epochs', '1',
                 '--image-size', '32', '--device', 'cpu', '--no-progress']) == 0
    model = tmp_path / 'model'
    assert main(['train', '--policy', 'bc', '--dataset', str(image_demos), '--obs-keys',
                 'pos,camera', '--encoder-weights', str(weights), '--image-size', '32',
                 '--epochs', '1', '--out', str(model), '--no-progress']) == 0
    manifest = json.loads((model / 'bundle.json').read_text())
    assert manifest['encoder']['weights']['path'] == str(weights)
    assert len(manifest['encoder']['weights']['sha256']) == 64
    # Both records name the machine and its kernels: weights made again elsewhere may differ.
    with safe_open(str(weights), 'pt') as saved:
        pretraining = json.loads(saved.metadata()['darp_ros_pretraining'])
    for record in (pretraining, manifest['training']):
        assert record['machine']['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
        assert record['machine']['torch'] == torch.__version__


def test_pretraining_names_missing_and_non_image_keys():
    episodes = make_episodes(2, 8, seed=0, image_size=16)
    with pytest.raises(ConfigError, match=r"\['wrist'\] are not in the demonstrations"):
        pretrain_encoder(episodes, ['wrist'], [])
    with pytest.raises(ConfigError, match="'pos' is not a"):
        pretrain_encoder(episodes, ['pos'], [])
