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

"""DARP's inference shortcuts (regrouped first layer, kept history distances) change no action."""

from darp_ros.core.memory import DemoMemory
from darp_ros.core.policies import darp as darp_module
from darp_ros.core.policies.darp import DARPConfig, DARPPolicy
from darp_ros.core.policies.darp_network import DARPNetwork
import numpy as np
import pytest
import torch


def _inputs(batch=3, k=16, state_dim=19, action_dim=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, state_dim, generator=generator),
            torch.randn(batch, k, state_dim, generator=generator),
            torch.randn(batch, k, action_dim, generator=generator))


@pytest.mark.parametrize('config', [DARPConfig(), DARPConfig(aggregator='set'),
                                    DARPConfig(head='gmm')], ids=['mean', 'set', 'gmm'])
def test_inference_matches_the_literal_rows(config):
    torch.manual_seed(0)
    network = DARPNetwork(19, 7, config).eval()
    query, states, actions = _inputs()
    literal = network(query, states, actions)          # grad enabled: rows built as trained
    with torch.inference_mode():
        regrouped = network(query, states, actions)
    torch.testing.assert_close(regrouped, literal.detach(), rtol=1e-5, atol=1e-5)


def test_inference_follows_weight_updates():
    # The regrouped weights are cached; an optimizer step or a load must not leave them stale.
    torch.manual_seed(0)
    network = DARPNetwork(19, 7, DARPConfig())
    query, states, actions = _inputs()
    with torch.no_grad():
        before = network(query, states, actions)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.5)
    network(query, states, actions).pow(2).sum().backward()
    optimizer.step()
    with torch.no_grad():
        after = network(query, states, actions)
    literal = network(query, states, actions).detach()
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, literal, rtol=1e-5, atol=1e-5)

    reloaded = DARPNetwork(19, 7, DARPConfig())
    with torch.no_grad():
        reloaded(query, states, actions)                 # fills the cache with its own weights
    reloaded.load_state_dict(network.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(reloaded(query, states, actions), literal,
                                   rtol=1e-5, atol=1e-5)


def test_a_rollout_acts_the_same_with_kept_history_distances():
    rng = np.random.default_rng(0)
    memory = DemoMemory(rng.normal(size=(60, 5)), rng.normal(size=(60, 2)),
                        np.repeat(np.arange(6), 10), np.tile(np.arange(10), 6), device='cpu')
    config = DARPConfig(k=24, history_len=4, history_keep_ratio=0.5)
    torch.manual_seed(0)
    kept, gathered = DARPPolicy(config, 5, 2), DARPPolicy(config, 5, 2)
    gathered.network.load_state_dict(kept.network.state_dict())
    gathered._distances_pay = lambda memory, batch: False
    assert kept._distances_pay(memory, 1)        # 60 rows < 24 candidates x 4 lags
    for query in torch.as_tensor(rng.normal(size=(7, 1, 5)), dtype=torch.float32):
        a, b = kept.act(query, memory), gathered.act(query, memory)
        assert np.array_equal(a.episodes, b.episodes) and np.array_equal(a.steps, b.steps)
        torch.testing.assert_close(a.actions, b.actions)


@pytest.mark.parametrize('config', [DARPConfig(), DARPConfig(aggregator='set'),
                                    DARPConfig(head='gmm')], ids=['mean', 'set', 'gmm'])
def test_training_from_row_ids_is_the_literal_loss_and_gradient(config):
    generator = torch.Generator().manual_seed(1)
    states, actions = torch.randn(40, 19, generator=generator), torch.randn(40, 7)
    nb = torch.randint(0, 40, (3, 16), generator=generator)
    query, target = torch.randn(3, 19, generator=generator), torch.randn(3, 7)
    torch.manual_seed(0)
    network = DARPNetwork(19, 7, config)
    literal = network.loss(query, states[nb], actions[nb], target)
    literal_grads = torch.autograd.grad(literal, list(network.parameters()))
    from_rows = network.loss_from_rows(query, states, actions, nb, target)
    grads = torch.autograd.grad(from_rows, list(network.parameters()))
    torch.testing.assert_close(from_rows, literal, rtol=1e-5, atol=1e-6)
    for got, expected in zip(grads, literal_grads):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('missing', ['mask', 'hold'])
def test_training_neighbours_are_the_same_from_pairwise_distances(missing, monkeypatch):
    rng = np.random.default_rng(2)
    memory = DemoMemory(rng.normal(size=(80, 6)), rng.normal(size=(80, 2)),
                        np.repeat(np.arange(8), 10), np.tile(np.arange(10), 8), device='cpu')
    policy = DARPPolicy(DARPConfig(k=30, history_len=5, history_keep_ratio=0.3,
                                   history_missing=missing), 6, 2)
    pairwise = policy.training_neighbors(memory)
    monkeypatch.setattr(darp_module, 'PAIRWISE_FLOATS', 0)      # too small: the gather path
    gathered = policy.training_neighbors(memory)
    assert pairwise.shape == (80, 9)
    assert torch.equal(pairwise, gathered)


def test_a_bounded_loss_reads_the_clamped_action_and_still_gets_gradient():
    torch.manual_seed(0)
    network = DARPNetwork(19, 7, DARPConfig())
    query, states, actions = _inputs()
    target = torch.randn(3, 7)
    free = network(query, states, actions)
    bound = 0.1 * float(free.detach().abs().min())  # every output is past the bound
    held = free.clamp(-bound, bound)
    expected = torch.mean((held + 0.01 * (free - held) - target) ** 2)
    loss = network.loss(query, states, actions, target, bound, 0.01)
    torch.testing.assert_close(loss, expected)
    # A hard clamp would leave nothing to learn from; the leak keeps every weight learning.
    grads = torch.autograd.grad(loss, list(network.parameters()))
    assert all(float(g.abs().sum()) > 0 for g in grads)
    hard = network.loss(query, states, actions, target, bound)
    assert not any(float(g.abs().sum()) > 0 for g in torch.autograd.grad(
        hard, list(network.parameters())))
