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

"""z-scoring statistics: the spread floor that keeps a barely-moving dimension from dominating."""

from darp_ros.core.bundle import load_bundle, save_bundle
from darp_ros.core.errors import ConfigError
from darp_ros.core.normalizer import Normalizer
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.recipe import Recipe
from darp_ros.data.synthetic import make_episodes
import numpy as np
import pytest


def demo_like_states(rows: int = 400) -> np.ndarray:
    """Positions spread ~0.05, a resting cube's tilt ~0.002 and a dimension that never moves."""
    rng = np.random.default_rng(0)
    return np.column_stack([rng.normal(0.0, 0.05, (rows, 3)), rng.normal(0.0, 0.002, rows),
                            np.full(rows, 0.7)])


def test_without_a_floor_each_dimension_is_scaled_by_its_own_spread():
    states = demo_like_states()
    norm = Normalizer.fit(states)
    np.testing.assert_allclose(norm.std[:4], states[:, :4].std(axis=0), rtol=1e-6)
    assert norm.std[4] == 1.0     # constant: passed through, never divided by ~0


def test_the_floor_lifts_only_spreads_below_a_fraction_of_the_median():
    states = demo_like_states()
    spreads = states[:, :4].std(axis=0)
    norm = Normalizer.fit(states, scale_floor=1.0)
    floor = np.median(spreads)
    np.testing.assert_allclose(norm.std[:4], np.maximum(spreads, floor), rtol=1e-6)
    assert norm.std[3] == pytest.approx(floor, rel=1e-6) and norm.std[4] == 1.0
    np.testing.assert_allclose(norm.mean, states.mean(axis=0), rtol=1e-6)
    half = Normalizer.fit(states, scale_floor=0.5)
    assert half.std[3] == pytest.approx(0.5 * floor, rel=1e-6)


def test_the_floor_keeps_a_small_tilt_from_outweighing_a_real_displacement():
    states = demo_like_states()
    tilted = states[0] + np.array([0, 0, 0, 0.02, 0])     # the cube tipped by ~2 degrees
    moved = states[0] + np.array([0.05, 0, 0, 0, 0])      # the gripper 5 cm off

    def distance(norm, query):
        return float(np.linalg.norm(norm.normalize(query) - norm.normalize(states[0])))

    plain, floored = Normalizer.fit(states), Normalizer.fit(states, scale_floor=1.0)
    assert distance(plain, tilted) > 5 * distance(plain, moved)
    assert distance(floored, tilted) < distance(floored, moved)


@pytest.mark.parametrize('floor', [-0.1, float('nan'), float('inf')])
def test_a_bad_floor_is_refused_by_name(floor):
    with pytest.raises(ConfigError, match='scale_floor'):
        Normalizer.fit(demo_like_states(), scale_floor=floor)


def test_a_trained_bundle_carries_the_floored_spreads_and_retrieves_with_them(tmp_path):
    small_episodes = make_episodes(count=8, length=20, seed=0, extra_dims=3)
    for episode in small_episodes:        # one nuisance dimension barely moves
        episode.obs['extra'][:, 0] *= 1e-3
    recipe = Recipe('darp', {'k': 4}, {'epochs': 1, 'state_scale_floor': 1.0})
    options = TrainOptions('darp', ('pos', 'extra'), recipe.policy_config,
                           recipe.train_config(progress=False), device='cpu')
    model = load_bundle(save_bundle(train_model(small_episodes, options), tmp_path / 'b'), 'cpu')
    raw = np.concatenate([np.column_stack([ep.obs['pos'], ep.obs['extra']])
                          for ep in small_episodes])
    spreads = raw.std(axis=0)
    np.testing.assert_allclose(model.state_normalizer.std,
                               np.maximum(spreads, np.median(spreads)), rtol=1e-5)
    np.testing.assert_allclose(model.memory.states.numpy(),
                               model.state_normalizer.normalize(raw), rtol=1e-4, atol=1e-5)
    assert model.training['options']['train']['state_scale_floor'] == 1.0
