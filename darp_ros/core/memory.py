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

"""Demonstration rows in feature space, and the retrieval index with (episode, step) beside it."""

from dataclasses import dataclass
from typing import Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.index import IndexConfig, RetrievalIndex
import numpy as np
import torch


@dataclass
class Neighbors:
    """Retrieved rows for a batch of queries: (B, m) row ids and Euclidean distances."""

    ids: torch.Tensor
    distances: torch.Tensor
    # Distance to the nearest row before any re-ranking dropped it; None when not known.
    nearest: Optional[torch.Tensor] = None


class DemoRows:
    """z-scored states and actions of whole episodes, stored contiguously in step order."""

    def __init__(self, states, actions, episodes, steps):
        self.states = torch.as_tensor(np.asarray(states, dtype=np.float32))
        self.actions = torch.as_tensor(np.asarray(actions, dtype=np.float32))
        self.episodes = np.asarray(episodes, dtype=np.int64)
        self.steps = np.asarray(steps, dtype=np.int64)
        n = len(self.episodes)
        if not (len(self.states) == len(self.actions) == len(self.steps) == n):
            raise ConfigError(f'demo rows disagree in length: states {len(self.states)}, '
                              f'actions {len(self.actions)}, episodes {n}, '
                              f'steps {len(self.steps)}')
        if n == 0:
            raise ConfigError('no demonstration rows')
        # History lookups step back inside an episode, which needs each episode contiguous.
        new_episode = np.ones(n, dtype=bool)
        new_episode[1:] = self.episodes[1:] != self.episodes[:-1]
        if len(np.unique(self.episodes)) != int(new_episode.sum()):
            raise ConfigError('demo rows must keep each episode contiguous')
        self.episode_start = np.maximum.accumulate(np.where(new_episode, np.arange(n), 0))
        self._episode_start_t = torch.as_tensor(self.episode_start)

    def __len__(self) -> int:
        return len(self.episodes)

    @property
    def state_dim(self) -> int:
        """Feature width."""
        return int(self.states.shape[1])

    @property
    def action_dim(self) -> int:
        """Return action width."""
        return int(self.actions.shape[1])

    def step_in_episode(self, ids: torch.Tensor) -> torch.Tensor:
        """How many rows of its own episode come before each row id (same shape as ids)."""
        return ids - self._episode_start_t.to(ids.device)[ids]

    def previous(self, ids: torch.Tensor, lag: int) -> torch.Tensor:
        """Row ids lag steps earlier in the same episode, held at the episode's first step."""
        start = self._episode_start_t.to(ids.device)[ids]
        return torch.maximum(ids - lag, start)

    def subset(self, rows: np.ndarray) -> 'DemoRows':
        """Return the given rows (whole episodes, in order) as a new DemoRows."""
        rows = np.asarray(rows, dtype=np.int64)
        return DemoRows(self.states[rows], self.actions[rows], self.episodes[rows],
                        self.steps[rows])

    def to(self, device) -> 'DemoRows':
        """Move the tensors to device."""
        self.states = self.states.to(device)
        self.actions = self.actions.to(device)
        return self


class DemoMemory(DemoRows):
    """DemoRows plus the retrieval index built over their states."""

    def __init__(self, states, actions, episodes, steps, index_config=IndexConfig(),
                 device: str = 'auto', index: Optional[RetrievalIndex] = None):
        super().__init__(states, actions, episodes, steps)
        if index is None:
            index = RetrievalIndex(self.state_dim, index_config, device=device)
            index.build(self.states.numpy())
        elif index.ntotal != len(self) or index.dim != self.state_dim:
            raise ConfigError(f'index holds {index.ntotal} x {index.dim} vectors but the memory '
                              f'has {len(self)} x {self.state_dim}')
        self.index = index

    @classmethod
    def from_rows(cls, rows: DemoRows, index_config=IndexConfig(), device='auto') -> 'DemoMemory':
        """Index existing rows."""
        return cls(rows.states, rows.actions, rows.episodes, rows.steps, index_config, device)

    def search(self, queries: torch.Tensor, k: int, exclude_rows: Optional[np.ndarray] = None,
               exclude_own_episode: bool = False, exclude_window: int = 0) -> Neighbors:
        """
        Find the k nearest rows of each query; optionally never a query's own row or episode.

        exclude_rows gives, per query, the memory row it came from (-1 for outside queries);
        exclude_window > 0 also bans the rows of the same episode within that many steps.
        Exclusion over-fetches and filters, so neighbors stay exact for any index kind.
        """
        k = min(int(k), len(self) - 1 if exclude_rows is not None else len(self))
        if k < 1:
            raise ConfigError('not enough demonstration rows to retrieve a neighbor')
        if exclude_rows is None:
            result = self.index.search(queries, k)
            return self._neighbors(result.ids, result.distances, queries.device)
        exclude_rows = np.asarray(exclude_rows, dtype=np.int64)
        extra = 1 + 2 * max(0, int(exclude_window))
        if exclude_own_episode:
            extra += int(np.bincount(self.episodes).max())
        fetch = min(k + extra, len(self))
        result = self.index.search(queries, fetch)
        ids, dist = result.ids, result.distances
        banned = ids == exclude_rows[:, None]
        own = np.where(exclude_rows >= 0, self.episodes[np.maximum(exclude_rows, 0)], -1)
        same_episode = self.episodes[np.maximum(ids, 0)] == own[:, None]
        if exclude_own_episode:
            banned |= same_episode
        if exclude_window > 0:
            own_step = self.steps[np.maximum(exclude_rows, 0)]
            near = np.abs(self.steps[np.maximum(ids, 0)] - own_step[:, None]) <= exclude_window
            banned |= same_episode & near
        banned |= ids < 0
        # Stable sort keeps ascending distance order among the allowed columns.
        order = np.argsort(banned, axis=1, kind='stable')[:, :k]
        ids = np.take_along_axis(ids, order, axis=1)
        dist = np.take_along_axis(dist, order, axis=1)
        if np.take_along_axis(banned, order, axis=1).any():
            raise ConfigError(f'fewer than {k} allowed neighbors: too few episodes to exclude '
                              "the query's own episode")
        return self._neighbors(ids, dist, queries.device)

    @staticmethod
    def _neighbors(ids, dist, device) -> Neighbors:
        return Neighbors(torch.as_tensor(ids, device=device),
                         torch.as_tensor(dist, device=device))
