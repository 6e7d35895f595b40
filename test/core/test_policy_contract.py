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

"""One contract over every registered policy: fit, act, save, load, identical actions."""

import dataclasses

from darp_ros.core.bundle import save_bundle
from darp_ros.core.errors import ConfigError
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.policies import build_policy, policy_names
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.training import TrainConfig
from darp_ros.data.demos import Episode
from darp_ros.data.hdf5 import read_demos
import numpy as np
import pytest
import torch

VARIANTS = [(name, {}) for name in policy_names()] + [
    ('darp', {'aggregator': 'set', 'head': 'gmm', 'k': 6}),
    ('darp', {'history_len': 3, 'history_keep_ratio': 0.5, 'exclude_own_episode': True}),
]


def test_every_policy_is_registered():
    assert set(policy_names()) == {'darp', 'bc', 'vinn', 'nn1', 'mcnn'}


@pytest.mark.parametrize('name,config', VARIANTS)
def test_fit_act_save_load_round_trip(tmp_path, small_hdf5, name, config):
    data = read_demos(small_hdf5, ['pos', 'extra'])
    options = TrainOptions(name, ('pos', 'extra'), config,
                           TrainConfig(epochs=3, progress=False, seed=1), device='cpu')
    model = train_model(data.episodes, options, data.env_args)
    before = PolicyRuntime(model)
    out = save_bundle(model, tmp_path / 'bundle')
    after = PolicyRuntime.load(out, device='cpu')

    episode = data.episodes[3]
    for runtime in (before, after):
        runtime.reset()
    for t in range(0, 12):
        obs = {'pos': episode.obs['pos'][t], 'extra': episode.obs['extra'][t]}
        a, b = before.step(obs), after.step(obs)
        assert a.action.shape == (2,) and a.action.dtype == np.float32
        assert np.all(np.isfinite(a.action))
        np.testing.assert_array_equal(a.action, b.action)
        assert a.neighbors == b.neighbors
    assert after.model.env_args == data.env_args
    assert after.model.policy.config == model.policy.config


def test_training_is_reproducible_with_a_seed(small_episodes):
    def train(seed):
        options = TrainOptions('darp', ('pos',), {'k': 4},
                               TrainConfig(epochs=2, progress=False, seed=seed), device='cpu')
        return PolicyRuntime(train_model(small_episodes, options)).act_batch(
            {'pos': small_episodes[0].obs['pos']})

    np.testing.assert_array_equal(train(5), train(5))
    assert not np.array_equal(train(5), train(6))


def test_best_checkpoint_is_the_lowest_validation_loss(small_episodes):
    options = TrainOptions('bc', ('pos',), {}, TrainConfig(epochs=6, progress=False, patience=0),
                           device='cpu')
    report = train_model(small_episodes, options).training['report']
    assert report['best_val_loss'] == pytest.approx(min(report['val_losses']))
    assert report['val_losses'][report['best_epoch'] - 1] == pytest.approx(
        report['best_val_loss'])


def test_vinn_chooses_k_on_held_out_episodes(small_episodes):
    options = TrainOptions('vinn', ('pos',), {}, TrainConfig(progress=False), device='cpu')
    model = train_model(small_episodes, options)
    errors = model.training['report']['notes']['val_mse_by_k']
    assert model.policy.config.k == int(min(errors, key=errors.get))


def test_runtime_reports_neighbors_from_demonstrations(small_episodes):
    options = TrainOptions('darp', ('pos',), {'k': 5, 'history_keep_ratio': 1.0},
                           TrainConfig(epochs=1, progress=False), device='cpu')
    runtime = PolicyRuntime(train_model(small_episodes, options))
    result = runtime.step({'pos': small_episodes[2].obs['pos'][7]})
    assert len(result.neighbors) == 5
    distances = [n.distance for n in result.neighbors]
    assert distances == sorted(distances)
    # Deployment retrieves from every demonstration: the query's own row is at distance 0.
    assert (result.neighbors[0].episode, result.neighbors[0].step) == (2, 7)
    assert result.neighbors[0].episode_name == 'demo_2'
    assert result.novelty == pytest.approx(0.0, abs=1e-5)


def test_novelty_is_the_nearest_demonstration_even_after_history_rerank():
    # Two episodes end near 0 from opposite sides; the query arrives from the positive side,
    # so re-ranking keeps episode 1's row (0.1) and drops the nearer row of episode 0 (0.0).
    episodes = [Episode(f'demo_{i}', {'pos': np.array(p, np.float32)[:, None]},
                        np.zeros((3, 1), np.float32))
                for i, p in enumerate([[-2.0, -1.0, 0.0], [2.0, 1.0, 0.1]])]
    options = TrainOptions('darp', ('pos',), {'k': 2, 'history_len': 3,
                                              'history_keep_ratio': 0.5},
                           TrainConfig(epochs=1, progress=False), val_fraction=0.0,
                           device='cpu')
    runtime = PolicyRuntime(train_model(episodes, options))
    for value in (2.0, 1.0):
        runtime.step({'pos': np.array([value], np.float32)})
    result = runtime.step({'pos': np.array([0.03], np.float32)})
    assert [(n.episode, n.step) for n in result.neighbors] == [(1, 2)]
    std = runtime.model.state_normalizer.std[0]
    assert result.novelty == pytest.approx(0.03 / std, rel=1e-4)


@pytest.mark.parametrize('name', ['bc', 'darp'])
def test_output_bound_clamps_what_the_network_says(small_episodes, name):
    options = TrainOptions(name, ('pos',), {'k': 4} if name == 'darp' else {},
                           TrainConfig(epochs=2, progress=False, seed=3), device='cpu')
    model = train_model(small_episodes, options)
    states = model.memory.states
    free = model.policy.act(states, model.memory).actions
    bound = 0.5 * float(free.abs().max())        # half the largest move: some rows clamp
    model.policy.config = dataclasses.replace(model.policy.config, output_bound=bound)
    model.policy.reset()
    held = model.policy.act(states, model.memory).actions
    assert float(held.abs().max()) <= bound
    torch.testing.assert_close(held, free.clamp(-bound, bound))


@pytest.mark.parametrize('name', ['bc', 'darp'])
def test_a_negative_output_bound_is_refused_by_name(name):
    with pytest.raises(ConfigError, match='output_bound'):
        build_policy(name, {'output_bound': -1.0}, 3, 2)
