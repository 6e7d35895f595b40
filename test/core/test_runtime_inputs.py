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

"""Bad observations give an ObservationError naming the key; a good one reports what it met."""

from darp_ros.core.errors import ConfigError, ObservationError
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.training import TrainConfig
from darp_ros.data.synthetic import make_episodes
import numpy as np
import pytest
import torch


@pytest.fixture(scope='module')
def runtime(small_episodes):
    options = TrainOptions('vinn', ('pos', 'extra'), {'k': 3}, TrainConfig(progress=False),
                           device='cpu')
    return PolicyRuntime(train_model(small_episodes, options))


GOOD = {'pos': np.zeros(2, np.float32), 'extra': np.zeros(3, np.float32)}


@pytest.mark.parametrize('obs,message', [
    ({'pos': np.zeros(2)}, "missing key 'extra'"),
    ({**GOOD, 'pos': np.zeros(4)}, r"'pos': expected shape \(2,\), got \(4,\)"),
    ({**GOOD, 'extra': np.array([0.0, np.nan, 1.0])}, "'extra' holds NaN/Inf"),
    ({**GOOD, 'pos': np.array([np.inf, 0.0])}, "'pos' holds NaN/Inf"),
    ({**GOOD, 'pos': np.array(['a', 'b'])}, "'pos' holds NaN/Inf or non-numeric"),
    ([1, 2, 3], 'dict of arrays'),
])
def test_bad_observation_is_named(runtime, obs, message):
    with pytest.raises(ObservationError, match=message):
        runtime.act(obs)


def test_extra_keys_are_ignored_and_column_vectors_accepted(runtime):
    action = runtime.act({'pos': np.zeros((2, 1)), 'extra': np.zeros(3), 'clock': np.ones(1)})
    np.testing.assert_array_equal(action, runtime.act(GOOD))


def test_step_reports_the_z_scored_query_and_its_nearest_distance(runtime):
    obs = {'pos': np.array([0.3, -0.2]), 'extra': np.array([0.1, 0.0, 0.5])}
    step = runtime.step(obs)
    model = runtime.model
    raw = np.concatenate([obs['pos'], obs['extra']]).astype(np.float32)
    expected = model.state_normalizer.normalize(torch.as_tensor(raw[None]))[0].numpy()
    np.testing.assert_allclose(step.query, expected, rtol=1e-6)
    nearest = torch.cdist(torch.as_tensor(step.query[None]), model.memory.states).min()
    assert step.novelty == pytest.approx(float(nearest), rel=1e-5)


def test_image_keys_need_an_encoder_choice():
    episodes = make_episodes(count=3, length=5, image_size=16)
    with pytest.raises(ConfigError, match='camera'):
        train_model(episodes, TrainOptions('nn1', ('pos', 'camera'), device='cpu'))


def test_image_policy_with_explicit_random_encoder_records_it(tmp_path):
    episodes = make_episodes(count=3, length=5, image_size=16)
    options = TrainOptions('nn1', ('pos', 'camera'), random_encoder=True, image_size=32,
                           device='cpu', train=TrainConfig(progress=False))
    runtime = PolicyRuntime(train_model(episodes, options))
    assert runtime.model.encoder.weights.kind == 'random'
    assert runtime.model.obs_spec.feature_dim == 2 + 512
    obs = {'pos': episodes[1].obs['pos'][2], 'camera': episodes[1].obs['camera'][2]}
    result = runtime.step(obs)
    assert (result.neighbors[0].episode, result.neighbors[0].step) == (1, 2)
    with pytest.raises(ObservationError, match="'camera': expected uint8"):
        runtime.act({**obs, 'camera': obs['camera'].astype(np.float32)})
