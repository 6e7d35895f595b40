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
DARP's defining property: demonstrations plus offsets beat a global state->action map.

The expert is a high-frequency map sampled along a few trajectories; queries lie between
trajectories, off every demonstrated state. With the same small network and the same budget,
BC must represent the whole map in its weights, while DARP copies nearby demonstrated
actions and learns only how they change with the offset to the query.
"""

from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.training import TrainConfig
from darp_ros.data.synthetic import between_queries, expert_action, make_episodes
import numpy as np
import pytest

FREQUENCY = 10.0
HIDDEN = (32, 32)


def action_error(policy, config, episodes, queries, seed):
    options = TrainOptions(policy, ('pos',), {**config, 'hidden': HIDDEN},
                           TrainConfig(epochs=60, progress=False, seed=seed), val_fraction=0.0,
                           device='cpu')
    predicted = PolicyRuntime(train_model(episodes, options)).act_batch({'pos': queries})
    return float(np.mean((predicted - expert_action(queries, FREQUENCY)) ** 2))


@pytest.mark.parametrize('seed', [0, 1])
def test_darp_beats_bc_between_trajectories(seed):
    episodes = make_episodes(count=12, length=40, seed=seed, frequency=FREQUENCY)
    queries = between_queries(episodes, 300, seed=seed + 100)
    demonstrated = np.concatenate([e.obs['pos'] for e in episodes])
    gaps = np.linalg.norm(queries[:, None] - demonstrated[None], axis=-1).min(axis=1)
    assert np.median(gaps) > 0.01, 'queries must lie off the demonstrated states'

    bc = action_error('bc', {}, episodes, queries, seed)
    darp = action_error('darp', {'k': 8}, episodes, queries, seed)
    assert darp < 0.7 * bc, f'DARP error {darp:.4f} is not clearly below BC error {bc:.4f}'
