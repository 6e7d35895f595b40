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

"""Tests of image preprocessing, trunk weight loading and the frozen ResNet-18 encoder."""

from darp_ros.core.encoders import (EncoderWeights, FEATURES_PER_CAMERA, ImageEncoder,
                                    load_trunk_weights, ResNet18Trunk)
from darp_ros.core.errors import ConfigError, EncoderError
from darp_ros.core.image_preprocessing import IMAGENET_MEAN, IMAGENET_STD, ImagePreprocessing
import numpy as np
import pytest
from safetensors.torch import load_file, save_file
import torch
import torchvision

SMALL = ImagePreprocessing(size=32)


class NotAWeight:
    """A custom class whose pickle needs code execution to load."""

    def __init__(self):
        """Hold a value."""
        self.value = 1


def _images(seed=0, batch=2, side=40):
    return np.random.default_rng(seed).integers(0, 256, (batch, side, side, 3), dtype=np.uint8)


@pytest.fixture(scope='module')
def torchvision_state():
    torch.manual_seed(123)
    model = torchvision.models.resnet18(weights=None)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_preprocessing_shape_dtype_and_constant():
    image = np.empty((48, 64, 3), dtype=np.uint8)
    image[...] = (255, 0, 128)
    out = SMALL(image)
    assert out.shape == (1, 3, 32, 32) and out.dtype == torch.float32
    expected = (np.array([1.0, 0.0, 128 / 255]) - IMAGENET_MEAN) / IMAGENET_STD
    for c in range(3):
        assert torch.allclose(out[0, c], torch.full((32, 32), float(expected[c])), atol=1e-5)


def test_preprocessing_single_matches_batch_and_tensor_input():
    images = _images()
    batch = SMALL(images)
    assert torch.equal(SMALL(images[1]), batch[1:2])
    assert torch.equal(SMALL(torch.from_numpy(images)), batch)
    flipped = images[:, ::-1, :, ::-1]  # a BGR flip is a negative-stride view
    assert torch.equal(SMALL(flipped), SMALL(flipped.copy()))


@pytest.mark.parametrize('bad, words', [
    (np.zeros((8, 8, 3), dtype=np.float64), ['expected uint8 RGB, got float64', '(8, 8, 3)']),
    (np.zeros((8, 8, 4), dtype=np.uint8), ['(8, 8, 4)']),
    (np.zeros((8, 8), dtype=np.uint8), ['(8, 8)']),
    (np.zeros((1, 2, 8, 8, 3), dtype=np.uint8), ['(1, 2, 8, 8, 3)']),
])
def test_preprocessing_rejects_bad_images(bad, words):
    with pytest.raises(EncoderError) as info:
        SMALL(bad)
    for word in words:
        assert word in str(info.value)


def test_preprocessing_config_round_trip_and_validation():
    assert ImagePreprocessing.from_dict(SMALL.to_dict()) == SMALL
    with pytest.raises(ConfigError, match='crop'):
        ImagePreprocessing.from_dict({'size': 32, 'crop': 1})
    with pytest.raises(ConfigError):
        ImagePreprocessing(size=0)
    with pytest.raises(ConfigError):
        ImagePreprocessing(std=(0.2, 0.0, 0.2))


def test_all_weight_layouts_give_identical_features(tmp_path, torchvision_state):
    plain = tmp_path / 'resnet18.pth'
    torch.save({'state_dict': torchvision_state}, plain)
    r3m = tmp_path / 'r3m.pt'
    torch.save({'r3m': {**{'module.convnet.' + k: v for k, v in torchvision_state.items()
                           if not k.startswith('fc.')},
                        'module.lang_enc.x': torch.zeros(3)}}, r3m)
    r3m_plain = tmp_path / 'r3m_state.pt'
    torch.save({'module.convnet.' + k: v for k, v in torchvision_state.items()
                if not k.startswith('fc.')}, r3m_plain)
    wrapped = tmp_path / 'wrapped.pth'
    torch.save({'model': torchvision_state, 'epoch': 3}, wrapped)
    safe = tmp_path / 'resnet18.safetensors'
    save_file(torchvision_state, str(safe))

    images = _images()
    features, kinds = [], []
    for path in (plain, r3m, r3m_plain, wrapped, safe):
        encoder = ImageEncoder.from_file(path, SMALL)
        assert encoder.weights.sha256 is not None and len(encoder.weights.sha256) == 64
        assert encoder.weights.path == str(path)
        kinds.append(encoder.weights.kind)
        features.append(encoder.encode(images))
    assert kinds == ['torchvision', 'r3m', 'r3m', 'torchvision', 'torchvision']
    assert features[0].shape == (2, FEATURES_PER_CAMERA) and features[0].dtype == np.float32
    for other in features[1:]:
        np.testing.assert_array_equal(features[0], other)
    state, _ = load_trunk_weights(plain)
    assert not any(k.startswith('fc.') for k in state)


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / 'evil.pt'
    torch.save({'conv1.weight': NotAWeight()}, path)
    with pytest.raises(EncoderError, match='weights_only refused'):
        load_trunk_weights(path)


def test_missing_key_and_bad_files_are_named(tmp_path, torchvision_state):
    path = tmp_path / 'partial.pth'
    torch.save({k: v for k, v in torchvision_state.items() if k != 'layer4.1.conv2.weight'},
               path)
    with pytest.raises(EncoderError, match='layer4.1.conv2.weight'):
        load_trunk_weights(path)
    shape = tmp_path / 'shape.pth'
    torch.save({**torchvision_state, 'conv1.weight': torch.zeros(64, 1, 7, 7)}, shape)
    with pytest.raises(EncoderError, match=r'conv1.weight expected \(64, 3, 7, 7\)'):
        load_trunk_weights(shape)
    other = tmp_path / 'other.pth'
    torch.save({'encoder.weight': torch.zeros(2)}, other)
    with pytest.raises(EncoderError, match='unrecognized weights layout.*encoder.weight'):
        load_trunk_weights(other)
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(EncoderError, match='not a readable PyTorch checkpoint'):
        load_trunk_weights(junk)
    junk_safe = tmp_path / 'junk.safetensors'
    junk_safe.write_bytes(b'not a safetensors file')
    with pytest.raises(EncoderError, match='not a readable safetensors file'):
        load_trunk_weights(junk_safe)
    with pytest.raises(EncoderError, match='does not exist'):
        ImageEncoder.from_file(tmp_path / 'absent.pth')


def test_trunk_is_frozen_and_stays_in_eval():
    trunk = ResNet18Trunk()
    assert not any(p.requires_grad for p in trunk.parameters())
    x = torch.rand(2, 3, 32, 32)
    before = trunk(x)
    trunk.train()
    assert not trunk.training and not any(m.training for m in trunk.modules())
    trunk(torch.rand(4, 3, 32, 32) * 5.0)
    assert torch.equal(trunk(x), before)
    assert torch.nn.Sequential(trunk).train().training is True
    assert not trunk.training


def test_random_encoder_is_seeded_and_leaves_global_rng_alone():
    images = _images()
    state = torch.get_rng_state()
    first = ImageEncoder.random(seed=0, preprocessing=SMALL)
    second = ImageEncoder.random(seed=0, preprocessing=SMALL)
    assert torch.equal(torch.get_rng_state(), state)
    assert first.weights == EncoderWeights('random', seed=0)
    np.testing.assert_array_equal(first.encode(images), second.encode(images))
    other = ImageEncoder.random(seed=1, preprocessing=SMALL)
    assert not np.allclose(first.encode(images), other.encode(images))


def test_state_dict_round_trip_and_chunking(tmp_path):
    encoder = ImageEncoder.random(seed=3, preprocessing=SMALL)
    images = _images(batch=3)
    save_file(encoder.state_dict(), str(tmp_path / 'trunk.safetensors'))
    weights = EncoderWeights.from_dict(encoder.weights.to_dict())
    restored = ImageEncoder.from_state_dict(load_file(str(tmp_path / 'trunk.safetensors')),
                                            SMALL, weights)
    expected = encoder.encode(images)
    np.testing.assert_array_equal(restored.encode(images), expected)
    chunked = ImageEncoder(restored.trunk, SMALL, weights, batch_size=2)
    np.testing.assert_allclose(chunked.encode(images), expected, rtol=1e-5, atol=1e-6)
    assert restored.encode(images[0]).shape == (1, FEATURES_PER_CAMERA)
    assert restored.encode(images[:0]).shape == (0, FEATURES_PER_CAMERA)


def test_weights_config_validation():
    with pytest.raises(ConfigError):
        EncoderWeights('imagenet')
    with pytest.raises(ConfigError):
        EncoderWeights('random')
    with pytest.raises(ConfigError, match='extra'):
        EncoderWeights.from_dict({'kind': 'bundle', 'extra': 1})


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_cuda_matches_cpu():
    encoder = ImageEncoder.random(seed=0, preprocessing=SMALL)
    images = _images()
    cpu = encoder.encode(images)
    encoder.to('cuda')
    assert next(encoder.trunk.parameters()).is_cuda
    np.testing.assert_allclose(encoder.encode(images), cpu, rtol=1e-3, atol=1e-3)
