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

"""Network building blocks shared by the policies: MLP, set-attention pooling, GMM head."""

import math
from typing import Sequence

import torch
from torch import nn

# Keeps a mixture component from collapsing onto one training point.
MIN_LOG_STD = -5.0
MAX_LOG_STD = 2.0


class MLP(nn.Module):
    """Linear -> LayerNorm -> ReLU blocks, then a linear output layer."""

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int] = (256, 256, 256)):
        super().__init__()
        layers = []
        width = in_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LayerNorm(h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network to the last dimension."""
        return self.net(x)


class _AttentionBlock(nn.Module):
    """Multi-head attention of queries over keys, with residuals and a feed-forward layer."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Attend from queries (B, q, d) to keys (B, n, d)."""
        attended, _ = self.attention(queries, keys, keys, need_weights=False)
        h = self.norm1(queries + attended)
        return self.norm2(h + self.ff(h))


class SetAttentionPool(nn.Module):
    """
    Permutation-invariant pooling: induced set attention blocks, then attention pooling.

    Inducing points keep the cost linear in the set size, so hundreds of neighbors stay cheap.
    """

    def __init__(self, dim: int, heads: int = 4, inducing: int = 8, blocks: int = 2):
        super().__init__()
        self.inducing = nn.Parameter(torch.randn(blocks, inducing, dim) / math.sqrt(dim))
        self.to_inducing = nn.ModuleList(_AttentionBlock(dim, heads) for _ in range(blocks))
        self.from_inducing = nn.ModuleList(_AttentionBlock(dim, heads) for _ in range(blocks))
        self.seed = nn.Parameter(torch.randn(1, 1, dim) / math.sqrt(dim))
        self.pool = _AttentionBlock(dim, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool a set (B, n, d) into (B, d)."""
        batch = x.shape[0]
        for i, (down, up) in enumerate(zip(self.to_inducing, self.from_inducing)):
            summary = down(self.inducing[i].expand(batch, -1, -1), x)
            x = up(x, summary)
        return self.pool(self.seed.expand(batch, -1, -1), x)[:, 0]


class GaussianMixtureHead(nn.Module):
    """A mixture of diagonal Gaussians over actions, for tasks with several ways to act."""

    def __init__(self, in_dim: int, action_dim: int, components: int = 5):
        super().__init__()
        self.action_dim = action_dim
        self.components = components
        self.out = nn.Linear(in_dim, components * (1 + 2 * action_dim))

    def forward(self, h: torch.Tensor):
        """Return (logits (B, K), means (B, K, A), log_stds (B, K, A))."""
        k, a = self.components, self.action_dim
        raw = self.out(h)
        logits = raw[:, :k]
        means = raw[:, k:k + k * a].reshape(-1, k, a)
        log_stds = raw[:, k + k * a:].reshape(-1, k, a).clamp(MIN_LOG_STD, MAX_LOG_STD)
        return logits, means, log_stds

    def distribution(self, h: torch.Tensor) -> torch.distributions.Distribution:
        """Return the mixture as a torch distribution."""
        logits, means, log_stds = self(h)
        components = torch.distributions.Independent(
            torch.distributions.Normal(means, log_stds.exp()), 1)
        return torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(logits=logits), components)

    def nll(self, h: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of the targets (B, A)."""
        return -self.distribution(h).log_prob(target).mean()

    def mode(self, h: torch.Tensor) -> torch.Tensor:
        """Mean of the most probable component: a committed action, never a blend of modes."""
        logits, means, _ = self(h)
        best = logits.argmax(dim=1)
        return means[torch.arange(means.shape[0], device=means.device), best]
