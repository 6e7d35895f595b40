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
from typing import Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.history import distances, history_ids, QueryHistory, real_lags, rerank
from darp_ros.core.memory import DemoMemory, DemoRows, Neighbors
from darp_ros.core.policies.base import (bounded, neighbor_output, Policy, PolicyOutput,
                                         register_policy, TRAINING_LEAK, TrainingData)
from darp_ros.core.policies.darp_network import DARPNetwork
from darp_ros.core.training import fit_module, FitReport, jitter, TrainConfig
import numpy as np
import torch

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
    output_bound: float = 0.0           # z-units of action; 0 = unbounded (base.bounded)

    def __post_init__(self):
        if self.k < 1:
            raise ConfigError(f'darp k must be >= 1, got {self.k}')
        if self.output_bound < 0:
            raise ConfigError(f'darp output_bound must be >= 0, got {self.output_bound}')
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
        bound = self.config.output_bound
        if data.val is not None:
            val = data.val.to(device)
            val_nb = self._cache(memory, val, exclude_self=False).to(device)

        def batch_loss(ids):
            nb = train_nb[ids]
            query = jitter(memory.states[ids], train)
            # Fewer memory rows than (sample, neighbour) pairs: run the first layer per row.
            if len(memory) < nb.numel():
                return self.network.loss_from_rows(query, memory.states, memory.actions, nb,
                                                   memory.actions[ids], bound, TRAINING_LEAK)
            return self.network.loss(query, memory.states[nb], memory.actions[nb],
                                     memory.actions[ids], bound, TRAINING_LEAK)

        def val_loss():
            total = 0.0
            chunk = rows_per_chunk(self.config.kept * (2 * memory.state_dim + memory.action_dim))
            for first in range(0, len(val), chunk):
                ids = slice(first, first + chunk)
                nb = val_nb[ids]
                loss = self.network.loss(val.states[ids], memory.states[nb], memory.actions[nb],
                                         val.actions[ids], bound)
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
        return neighbor_output(bounded(actions, self.config.output_bound), memory, nb)
