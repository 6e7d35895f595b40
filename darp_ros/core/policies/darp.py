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

"""DARP: one shared network reads each neighbor's state, action and offset to the query."""

import dataclasses
from dataclasses import dataclass
import math
from typing import Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.history import distances, history_ids, QueryHistory, real_lags, rerank
from darp_ros.core.memory import DemoMemory, DemoRows, Neighbors
from darp_ros.core.networks import GaussianMixtureHead, MLP, SetAttentionPool
from darp_ros.core.policies.base import (neighbor_output, Policy, PolicyOutput, register_policy,
                                         TrainingData)
from darp_ros.core.training import fit_module, FitReport, jitter, TrainConfig
import numpy as np
import torch
from torch import nn

# Neighbor caching and validation run in chunks so 100k-row datasets fit in memory: at
# most CHUNK rows, and fewer when each row's work is large. History re-ranking gathers
# (rows, k, history_len, state_dim) floats; with image features (state_dim ~ 1000) and the
# recipe's k and lookback, 4096 rows would be hundreds of GB.
CHUNK = 4096
CHUNK_FLOATS = 1 << 27      # 512 MiB of float32 per chunk
# A rollout's history distances to every memory row are held between steps: at most 64 MiB.
HELD_FLOATS = 1 << 24
# Training re-ranks with the memory's pairwise distances when they fit: up to 8,192 rows.
PAIRWISE_FLOATS = 1 << 26


def rows_per_chunk(floats_per_row: int) -> int:
    """Rows per chunk so that one chunk's largest tensor stays near CHUNK_FLOATS."""
    return max(1, min(CHUNK, CHUNK_FLOATS // max(1, floats_per_row)))


@dataclass(frozen=True)
class DARPConfig:
    """
    DARP settings.

    The defaults are the middle of the DARP authors' tuned recipes over their eight tasks
    (candidates 93..2699, median about 500; lookback 13..49; keep ratio 0.12..0.65): many
    candidates, re-ranked by their recent past. With k=16 and no history DARP lost to BC on
    every robosuite cell here; with the recipes it beats BC on Hopper and Walker2d (RESULTS).
    k larger than the demonstrations is cut to their number at training.
    """

    k: int = 512
    hidden: tuple = (256, 256, 256)
    aggregator: str = 'mean'            # 'mean' | 'set' (attention over the k candidates)
    head: str = 'mse'                   # 'mse' | 'gmm' (mixture of Gaussians, NLL)
    set_dim: int = 128
    set_heads: int = 4
    set_inducing: int = 8
    gmm_components: int = 5
    history_len: int = 32               # L > 1 re-ranks candidates by their recent past
    history_decay: float = -0.5         # weight of lag i is i ** decay (i = 1 newest)
    history_keep_ratio: float = 0.3     # keep round(ratio * k) re-ranked candidates
    # Lags before an episode's start: 'mask' leaves them out of the score (the authors'
    # way), 'hold' compares them as copies of the episode's first state.
    history_missing: str = 'mask'
    exclude_own_episode: bool = False   # training neighbors never from the sample's episode
    # Training neighbors never within this many steps of the sample in its own episode:
    # adjacent frames are far closer than anything a test-time query finds.
    exclude_window: int = 0

    def __post_init__(self):
        if self.k < 1:
            raise ConfigError(f'darp k must be >= 1, got {self.k}')
        if self.exclude_window < 0:
            raise ConfigError(f'darp exclude_window must be >= 0, got {self.exclude_window}')
        if self.aggregator not in ('mean', 'set'):
            raise ConfigError(f"darp aggregator must be 'mean' or 'set', got {self.aggregator!r}")
        if self.head not in ('mse', 'gmm'):
            raise ConfigError(f"darp head must be 'mse' or 'gmm', got {self.head!r}")
        if self.history_len < 1 or not 0 < self.history_keep_ratio <= 1:
            raise ConfigError('darp history_len must be >= 1 and history_keep_ratio in (0, 1], '
                              f'got {self.history_len}, {self.history_keep_ratio}')
        if self.history_missing not in ('mask', 'hold'):
            raise ConfigError("darp history_missing must be 'mask' or 'hold', got "
                              f'{self.history_missing!r}')
        if self.set_dim % self.set_heads:
            raise ConfigError(f'darp set_dim {self.set_dim} must divide by set_heads '
                              f'{self.set_heads}')

    @property
    def kept(self) -> int:
        """Neighbors the network sees after re-ranking."""
        return max(1, round(self.history_keep_ratio * self.k))


class DARPNetwork(nn.Module):
    """Rows [s_j, a_j, (s_j - s_q)/sqrt(2)] -> shared MLP -> set aggregation -> action."""

    def __init__(self, state_dim: int, action_dim: int, config: DARPConfig):
        super().__init__()
        # Mean aggregation with an MSE head averages candidate actions directly.
        self.candidates_are_actions = config.aggregator == 'mean' and config.head == 'mse'
        width = action_dim if self.candidates_are_actions else config.set_dim
        self.row_net = MLP(2 * state_dim + action_dim, width, config.hidden)
        self.pool = (SetAttentionPool(width, config.set_heads, config.set_inducing)
                     if config.aggregator == 'set' else None)
        self.gmm = (GaussianMixtureHead(width, action_dim, config.gmm_components)
                    if config.head == 'gmm' else None)
        self.out = (nn.Linear(width, action_dim)
                    if config.head == 'mse' and not self.candidates_are_actions else None)
        # Regrouped first-layer weights for inference, rebuilt whenever the weights change.
        self._split_key = None
        self._split = None

    def pooled(self, query, nb_states, nb_actions) -> torch.Tensor:
        """Candidates for every neighbor, aggregated over the set: (B, width)."""
        if torch.is_grad_enabled():
            offset = (nb_states - query[:, None, :]) / math.sqrt(2.0)
            first = self.row_net.net[0](torch.cat([nb_states, nb_actions, offset], dim=-1))
        else:
            first = self._split_first_layer(query, nb_states, nb_actions)
        return self._aggregate(first)

    def pooled_from_rows(self, query, states, actions, nb) -> torch.Tensor:
        """
        pooled() for neighbours given as ids nb (B, m) into memory rows (states, actions).

        The first layer's neighbour part is computed once per memory row and then indexed,
        not once per (query, neighbour) pair: with image features and ~150 kept neighbours
        per sample a batch of 64 holds ~10,000 pairs of 2,000 rows, and that layer is most
        of the network's work. The same function as pooled(), gradients included.
        """
        first = self.row_net.net[0]
        w_state, w_action, w_query = _regrouped(first.weight, states.shape[1], actions.shape[1])
        per_row = states @ w_state + actions @ w_action
        return self._aggregate(per_row[nb] + (first.bias - query @ w_query)[:, None, :])

    def _aggregate(self, first_layer: torch.Tensor) -> torch.Tensor:
        candidates = self.row_net.net[1:](first_layer)
        return candidates.mean(dim=1) if self.pool is None else self.pool(candidates)

    def _split_first_layer(self, query, nb_states, nb_actions) -> torch.Tensor:
        """
        Apply the row network's first layer without building the rows: the sum regrouped.

        The query's part is computed once instead of k times and the state columns are read
        once: at 1033-wide image features the whole network went from 0.59 to 0.44 ms (k = 16,
        one CPU thread). Inference only; the weights are regrouped once per weight update.
        """
        first = self.row_net.net[0]
        key = (first.weight.data_ptr(), first.weight._version, first.weight.device)
        if self._split_key != key:
            self._split = tuple(w.contiguous() for w in _regrouped(
                first.weight.detach(), query.shape[1], nb_actions.shape[2]))
            self._split_key = key
        w_state, w_action, w_query = self._split
        per_query = first.bias.detach() - query @ w_query
        return nb_states @ w_state + nb_actions @ w_action + per_query[:, None, :]

    def forward(self, query, nb_states, nb_actions) -> torch.Tensor:
        """Return the action (B, A)."""
        h = self.pooled(query, nb_states, nb_actions)
        return self.gmm.mode(h) if self.gmm is not None else self._head(h)

    def loss(self, query, nb_states, nb_actions, target) -> torch.Tensor:
        """MSE on z-scored actions, or the mixture's negative log-likelihood."""
        return self._loss(self.pooled(query, nb_states, nb_actions), target)

    def loss_from_rows(self, query, states, actions, nb, target) -> torch.Tensor:
        """loss() for neighbours given as ids into memory rows (see pooled_from_rows)."""
        return self._loss(self.pooled_from_rows(query, states, actions, nb), target)

    def _head(self, h: torch.Tensor) -> torch.Tensor:
        return h if self.out is None else self.out(h)

    def _loss(self, h: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.gmm is not None:
            return self.gmm.nll(h, target)
        return torch.mean((self._head(h) - target) ** 2)


def _regrouped(weight: torch.Tensor, state_dim: int, action_dim: int):
    """
    Regroup the first layer's weight W over rows [s_j, a_j, (s_j - q)/sqrt2] by input.

    W [s_j, a_j, (s_j - q)/sqrt2] = (W_s + W_o/sqrt2) s_j + W_a a_j - (W_o/sqrt2) q; returns
    those three matrices transposed, for right-multiplying rows of s_j, a_j and q.
    """
    w_offset = weight[:, state_dim + action_dim:] / math.sqrt(2.0)
    return ((weight[:, :state_dim] + w_offset).T, weight[:, state_dim:state_dim + action_dim].T,
            w_offset.T)


@register_policy
class DARPPolicy(Policy):
    """Difference-Aware Retrieval Policy."""

    name = 'darp'
    config_class = DARPConfig

    def __init__(self, config: DARPConfig, state_dim: int, action_dim: int):
        super().__init__(config, state_dim, action_dim)
        self.network = DARPNetwork(state_dim, action_dim, config)
        self.history = QueryHistory(config.history_len)

    def modules(self):
        """Return the one network."""
        return {'network': self.network}

    def reset(self) -> None:
        """Forget the rollout's query history."""
        self.history.reset()

    def neighbors(self, memory: DemoMemory, queries: torch.Tensor,
                  history: Optional[torch.Tensor], exclude_rows=None,
                  query_lags: Optional[torch.Tensor] = None,
                  lag_distances: Optional[torch.Tensor] = None) -> Neighbors:
        """Retrieve k candidates and keep the best after optional history re-ranking."""
        training = exclude_rows is not None     # exclusions apply to training samples only
        nb = memory.search(queries, self.config.k, exclude_rows=exclude_rows,
                           exclude_own_episode=self.config.exclude_own_episode and training,
                           exclude_window=self.config.exclude_window if training else 0)
        keep = min(self.config.kept, nb.ids.shape[1])
        masked = self.config.history_missing == 'mask'
        return rerank(memory, nb, history, self.config.history_decay, keep,
                      query_lags if masked else None, lag_distances)

    def _cache(self, memory: DemoMemory, rows: DemoRows, exclude_self: bool) -> torch.Tensor:
        """Neighbor ids of every row, computed once before training."""
        length = self.config.history_len
        # The rows are the memory itself (training): every lag of a sample's history is a
        # memory row, so its distances to all rows are a row of one pairwise matrix, and
        # re-ranking reads those instead of gathering k * L states per sample.
        pairwise = None
        if length > 1 and rows is memory and len(memory) ** 2 <= PAIRWISE_FLOATS:
            pairwise = distances(memory.states, memory.states)
            pairwise.fill_diagonal_(0.0)       # a row's distance to itself, exactly
        per_row = (length * len(memory) if pairwise is not None
                   else self.config.k * length * memory.state_dim)
        out, chunk = [], rows_per_chunk(per_row)
        for first in range(0, len(rows), chunk):
            ids = torch.arange(first, min(first + chunk, len(rows)), device=rows.states.device)
            history, lag_distances = None, None
            if length > 1:
                past = history_ids(rows, ids, length)
                history = rows.states[past]
                lag_distances = pairwise[past] if pairwise is not None else None
            lags = real_lags(rows, ids, length)
            exclude = ids.cpu().numpy() if exclude_self else None
            out.append(self.neighbors(memory, rows.states[ids], history, exclude, lags,
                                      lag_distances).ids)
        return torch.cat(out)

    def training_neighbors(self, memory: DemoMemory) -> torch.Tensor:
        """(N, m) ids of the neighbours each memory row trained with (never the row itself)."""
        return self._cache(memory, memory, exclude_self=True)

    def fit(self, data: TrainingData, train: TrainConfig, device: str = 'cpu') -> FitReport:
        """Cache neighbors (never a sample itself), then minimise the loss over samples."""
        self.to(device)
        memory = data.train.to(device)
        # More candidates than a sample may have (never itself, nor with exclude_own_episode
        # its own episode): all of them.
        allowed = len(memory) - 1
        if self.config.exclude_own_episode:
            allowed = len(memory) - int(np.bincount(memory.episodes).max())
        if self.config.k > allowed:
            self.config = dataclasses.replace(self.config, k=max(1, allowed))
        train_nb = self._cache(memory, memory, exclude_self=True).to(device)
        if data.val is not None:
            val = data.val.to(device)
            val_nb = self._cache(memory, val, exclude_self=False).to(device)

        def batch_loss(ids):
            nb = train_nb[ids]
            query = jitter(memory.states[ids], train)
            # Fewer memory rows than (sample, neighbour) pairs: run the first layer per row.
            if len(memory) < nb.numel():
                return self.network.loss_from_rows(query, memory.states, memory.actions, nb,
                                                   memory.actions[ids])
            return self.network.loss(query, memory.states[nb], memory.actions[nb],
                                     memory.actions[ids])

        def val_loss():
            total = 0.0
            chunk = rows_per_chunk(self.config.kept * (2 * memory.state_dim + memory.action_dim))
            for first in range(0, len(val), chunk):
                ids = slice(first, first + chunk)
                nb = val_nb[ids]
                loss = self.network.loss(val.states[ids], memory.states[nb], memory.actions[nb],
                                         val.actions[ids])
                total += loss.item() * len(nb)
            return total / len(val)

        report = fit_module(self.network, len(memory), batch_loss,
                            val_loss if data.val is not None else None, train, device, 'darp',
                            closed_loop=data.closed_loop, confirm=data.confirm)
        report.notes['neighbors_per_sample'] = int(train_nb.shape[1])
        return report

    def _distances_pay(self, memory: DemoMemory, batch: int) -> bool:
        """
        Whether re-ranking should use the history's kept distances to every memory row.

        Per step those cost one matrix-vector product over the (N, D) rows; the gather they
        replace reads k * L rows of D and forms their differences. Worth it when memory holds
        fewer rows than k * L (image features over up to ~10,000 rows: 25x faster at 2,000).
        The (B, L, N) distances stay held between steps, so their size is capped.
        """
        rows = len(memory)
        return (rows < self.config.k * self.config.history_len
                and batch * self.config.history_len * rows <= HELD_FLOATS)

    @torch.no_grad()
    def act(self, states: torch.Tensor, memory: Optional[DemoMemory]) -> PolicyOutput:
        """Retrieve, build one row per neighbor, aggregate."""
        history, lags, lag_distances = None, None, None
        if self.config.history_len > 1:
            history = self.history.push(states)
            lags = torch.full((len(states),), self.history.real, dtype=torch.long)
            if self._distances_pay(memory, len(states)):
                lag_distances = self.history.distances_to(memory.states)
        nb = self.neighbors(memory, states, history, query_lags=lags,
                            lag_distances=lag_distances)
        ids = nb.ids.to(memory.states.device)
        actions = self.network(states, memory.states[ids], memory.actions[ids])
        return neighbor_output(actions, memory, nb)
