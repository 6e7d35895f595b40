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

"""Retrieval over demonstration rows: self-exclusion, own-episode exclusion, history."""

from darp_ros.core.errors import ConfigError
from darp_ros.core.history import history_ids, QueryHistory, rerank
from darp_ros.core.index import IndexConfig
from darp_ros.core.memory import DemoMemory, DemoRows
import numpy as np
import pytest
import torch


def memory(backend='faiss', episodes=4, length=10, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    n = episodes * length
    return DemoMemory(rng.normal(size=(n, dim)), rng.normal(size=(n, 2)),
                      np.repeat(np.arange(episodes), length), np.tile(np.arange(length), episodes),
                      IndexConfig(backend=backend), device='cpu')


@pytest.mark.parametrize('backend', ['faiss', 'torch'])
def test_a_row_is_never_its_own_neighbor(backend):
    mem = memory(backend)
    rows = np.arange(len(mem))
    nb = mem.search(mem.states, 5, exclude_rows=rows)
    assert not (nb.ids.numpy() == rows[:, None]).any()
    # Without exclusion every row finds itself first, at distance 0.
    plain = mem.search(mem.states, 5)
    np.testing.assert_array_equal(plain.ids[:, 0].numpy(), rows)
    assert torch.all(nb.distances[:, 1:] >= nb.distances[:, :-1])


def test_faiss_and_torch_memories_retrieve_the_same_rows():
    a, b = memory('faiss'), memory('torch')
    rows = np.arange(len(a))
    np.testing.assert_array_equal(a.search(a.states, 6, exclude_rows=rows).ids.numpy(),
                                  b.search(b.states, 6, exclude_rows=rows).ids.numpy())


def test_own_episode_exclusion():
    mem = memory()
    rows = np.arange(len(mem))
    nb = mem.search(mem.states, 8, exclude_rows=rows, exclude_own_episode=True)
    assert not (mem.episodes[nb.ids.numpy()] == mem.episodes[rows][:, None]).any()
    # The kept neighbors are still the nearest allowed ones, in order.
    assert torch.all(nb.distances[:, 1:] >= nb.distances[:, :-1])


def test_window_exclusion_bans_nearby_steps_of_the_own_episode_only():
    mem = memory(episodes=3, length=20)
    rows = np.arange(len(mem))
    nb = mem.search(mem.states, 10, exclude_rows=rows, exclude_window=3).ids.numpy()
    same = mem.episodes[nb] == mem.episodes[rows][:, None]
    near = np.abs(mem.steps[nb] - mem.steps[rows][:, None]) <= 3
    assert not (same & near).any()
    assert (same & ~near).any()     # farther steps of the own episode stay allowed
    # The result is exactly the nearest allowed rows, as brute force finds them.
    distances = torch.cdist(mem.states, mem.states).numpy()
    for row in (0, 25, 59):
        allowed = [j for j in np.argsort(distances[row], kind='stable')
                   if not (mem.episodes[j] == mem.episodes[row]
                           and abs(mem.steps[j] - mem.steps[row]) <= 3)]
        assert set(nb[row]) == set(allowed[:10])


def test_own_episode_exclusion_needs_other_episodes():
    mem = memory(episodes=1)
    with pytest.raises(ConfigError, match='own episode'):
        mem.search(mem.states, 3, exclude_rows=np.arange(len(mem)), exclude_own_episode=True)


def test_history_steps_back_inside_the_episode_only():
    rows = DemoRows(np.arange(6)[:, None], np.zeros((6, 1)), [0, 0, 0, 1, 1, 1],
                    [0, 1, 2, 0, 1, 2])
    ids = torch.tensor([2, 3, 5])
    assert rows.previous(ids, 1).tolist() == [1, 3, 4]
    assert rows.previous(ids, 5).tolist() == [0, 3, 3]
    assert rows.states[history_ids(rows, torch.tensor([4]), 3)][0, :, 0].tolist() == [4, 3, 3]


def test_history_rerank_prefers_matching_pasts():
    # Two episodes end at the same state but arrive from opposite sides.
    states = np.array([[-2.0], [-1.0], [0.0], [2.0], [1.0], [0.0]])
    mem = DemoMemory(states, np.zeros((6, 1)), [0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2],
                     device='cpu')
    history = QueryHistory(3)
    for value in (2.1, 1.1, 0.0):            # the query comes from the positive side
        hist = history.push(torch.tensor([[value]]))
    nb = mem.search(torch.tensor([[0.0]]), 2)
    best = rerank(mem, nb, hist, decay=-1.0, keep=1)
    assert best.ids.tolist() == [[5]]


def test_masked_history_compares_only_lags_inside_both_episodes():
    # Row 0 is the first step of its episode; row 3 reaches the same state from 8, 8.
    states = np.array([[0.0], [8.0], [8.0], [0.0]])
    mem = DemoMemory(states, np.zeros((4, 1)), [0, 1, 1, 1], [0, 0, 1, 2], device='cpu')
    history = torch.tensor([[[0.0], [9.0], [9.0]]])      # the query came from 9, 9
    nb = mem.search(torch.tensor([[0.0]]), 2)
    assert sorted(nb.ids[0].tolist()) == [0, 3]
    # Held at its first state, row 0's past reads 0, 0: score 9 + 9 against row 3's 1 + 1.
    assert rerank(mem, nb, history, 0.0, keep=1).ids.tolist() == [[3]]
    # Masked, row 0 has no past to compare: its score is the newest lag's alone, 0.
    masked = rerank(mem, nb, history, 0.0, keep=1, query_lags=torch.tensor([3]))
    assert masked.ids.tolist() == [[0]]


def test_query_history_counts_its_real_lags():
    history = QueryHistory(3)
    assert history.real == 0
    for value in range(5):
        history.push(torch.tensor([[float(value)]]))
        assert history.real == min(value + 1, 3)
    history.reset()
    assert history.real == 0


@pytest.mark.parametrize('masked', [True, False])
def test_kept_lag_distances_rerank_exactly_as_the_gathered_states(masked):
    mem = memory(episodes=5, length=8, dim=4, seed=3)
    history = QueryHistory(6)
    rng = np.random.default_rng(1)
    for step in range(9):       # through the padded start and past the lookback
        query = torch.as_tensor(rng.normal(size=(2, 4)), dtype=torch.float32)
        hist = history.push(query)
        lags = torch.full((2,), history.real) if masked else None
        nb = mem.search(query, 20)
        gathered = rerank(mem, nb, hist, -0.5, keep=7, query_lags=lags)
        kept = rerank(mem, nb, hist, -0.5, keep=7, query_lags=lags,
                      lag_distances=history.distances_to(mem.states))
        assert torch.equal(kept.ids, gathered.ids)
        torch.testing.assert_close(kept.distances, gathered.distances)


def test_lag_distances_follow_the_rows_and_the_batch():
    history = QueryHistory(3)
    first, second = torch.randn(5, 2), torch.randn(7, 2)
    for _ in range(2):
        history.push(torch.randn(1, 2))
    history.distances_to(first)
    states = history.push(torch.randn(1, 2))
    # Asked about other rows, every held lag is measured again, the padding included.
    expected = torch.cdist(states[0], second)[None]
    torch.testing.assert_close(history.distances_to(second), expected)
    # A new batch size is a new set of rollouts: nothing of the old one is kept.
    states = history.push(torch.randn(2, 2))
    assert history.real == 1
    torch.testing.assert_close(history.distances_to(second),
                               torch.cdist(states[:, 0], second)[:, None].expand(2, 3, 7))


def test_rows_must_keep_episodes_contiguous():
    with pytest.raises(ConfigError, match='contiguous'):
        DemoRows(np.zeros((3, 1)), np.zeros((3, 1)), [0, 1, 0], [0, 0, 1])


def test_darp_training_neighbours_do_not_depend_on_the_chunk_size(monkeypatch):
    # Image features make each row's re-ranking gather large, so the cache is split into
    # fewer rows per chunk; the neighbours must be the same however it is split.
    from darp_ros.core.policies import darp
    mem = memory(episodes=5, length=12, dim=4)
    policy = darp.DARPPolicy(darp.DARPConfig(k=12, history_len=4, history_keep_ratio=0.5), 4, 2)
    whole = policy.training_neighbors(mem)
    monkeypatch.setattr(darp, 'CHUNK_FLOATS', 12 * 4 * 4 * 7)    # 7 rows per chunk
    assert darp.rows_per_chunk(12 * 4 * 4) == 7
    torch.testing.assert_close(policy.training_neighbors(mem), whole)
    assert darp.rows_per_chunk(10 ** 12) == 1
