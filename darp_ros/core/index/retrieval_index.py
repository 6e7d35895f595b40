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

"""RetrievalIndex: add, search, save and load expert states, whichever backend holds them."""

import logging
from typing import NamedTuple

from darp_ros.core.errors import ConfigError
from darp_ros.core.index import faiss_backend
from darp_ros.core.index.config import check_int, IndexConfig
from darp_ros.core.index.files import read_index, write_index
from darp_ros.core.index.torch_backend import ExactTorchSearch
import numpy as np
import torch

DEVICES = ('auto', 'cpu', 'cuda')

_LOG = logging.getLogger(__name__)


class SearchResult(NamedTuple):
    """Per query row: Euclidean distances ascending and row ids (-1 and inf pad missing ones)."""

    distances: np.ndarray
    ids: np.ndarray


def resolve_device(config: IndexConfig, device: str) -> str:
    """Return 'cpu' or 'cuda' for device ('auto' picks a GPU the backend can use)."""
    if device not in DEVICES:
        raise ConfigError(f'RetrievalIndex.device: expected one of {DEVICES}, got {device!r}')
    if config.backend == 'torch':
        has_gpu = torch.cuda.is_available()
    else:
        has_gpu = faiss_backend.gpu_count() > 0
    if device == 'cuda' and not has_gpu:
        raise ConfigError(
            f"RetrievalIndex.device: 'cuda' expects a GPU visible to {config.backend}, "
            "found none; use 'auto' or 'cpu'")
    if device == 'auto':
        device = 'cuda' if has_gpu else 'cpu'
        if not has_gpu:
            _LOG.info('No GPU visible to %s: the retrieval index runs on CPU.', config.backend)
    if device == 'cuda' and config.backend == 'faiss' and config.kind == 'hnsw':
        _LOG.info('faiss has no GPU HNSW: the hnsw retrieval index runs on CPU.')
        device = 'cpu'
    return device


class RetrievalIndex:
    """K-nearest-neighbour search with Euclidean distances over all vectors added so far."""

    def __init__(self, dim: int, config: IndexConfig = IndexConfig(), device: str = 'auto'):
        """Create an empty index of dim-dimensional vectors on the chosen device."""
        check_int('RetrievalIndex', 'dim', dim, 1)
        if not isinstance(config, IndexConfig):
            raise ConfigError(
                f'RetrievalIndex.config: expected an IndexConfig, got {type(config).__name__}')
        self.dim = int(dim)
        self.config = config
        self.device = resolve_device(config, device)
        self._data = np.empty((0, self.dim), np.float32)
        self._index = None      # the faiss index (faiss backend)
        self._exact = None      # the torch search (torch backend)
        if config.backend == 'torch':
            self._exact = ExactTorchSearch(self._data, self.device)
        elif config.kind != 'ivf':
            # flat and hnsw need no training, so add() works before build().
            self._index = faiss_backend.place(faiss_backend.new_index(config, self.dim, 0),
                                              self.device)

    @property
    def ntotal(self) -> int:
        """Return the number of vectors added so far."""
        return int(self._data.shape[0])

    def build(self, vectors) -> None:
        """Replace the contents with vectors (N, dim), training IVF cells first."""
        # A private copy: the caller may mutate its array, and the CPU tensor shares this one.
        x = self._as_array(vectors, 'vectors').copy()
        if x.shape[0] == 0:
            raise ValueError(f'build: expected at least one vector of dim {self.dim}, got 0')
        if self.config.backend == 'torch':
            self._exact = ExactTorchSearch(x, self.device)
        else:
            cpu = faiss_backend.new_index(self.config, self.dim, x.shape[0])
            if self.config.kind == 'ivf':
                cpu.train(x)
            self._index = faiss_backend.place(cpu, self.device)
            self._index.add(x)
        self._data = x

    def add(self, vectors) -> None:
        """Append vectors (N, dim); their ids continue from ntotal."""
        x = self._as_array(vectors, 'vectors')
        if self._index is None and self.config.backend == 'faiss':
            raise ConfigError("add: an 'ivf' index must be built (trained) first; call build()")
        if x.shape[0] == 0:
            return
        if self.config.backend == 'faiss':
            self._index.add(x)
        self._data = np.concatenate([self._data, x])
        if self.config.backend == 'torch':
            self._exact = ExactTorchSearch(self._data, self.device)

    def search(self, queries, k: int) -> SearchResult:
        """Return the k nearest vectors of each query row (numpy or torch tensor, any device)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f'search: expected k to be an int >= 1, got {k!r}')
        k = int(k)
        torch_backend = self.config.backend == 'torch'
        q = self._as_tensor(queries) if torch_backend else self._as_array(queries, 'queries')
        n_queries = int(q.shape[0])
        distances = np.full((n_queries, k), np.inf, np.float32)
        ids = np.full((n_queries, k), -1, np.int64)
        found_k = min(k, self.ntotal)
        if found_k == 0 or n_queries == 0:
            return SearchResult(distances, ids)
        if torch_backend:
            sq_dist, found = self._exact.search(q, found_k)
        else:
            if self.device == 'cuda' and found_k > faiss_backend.GPU_MAX_K:
                raise ValueError(
                    f'search: faiss on GPU expects k <= {faiss_backend.GPU_MAX_K}, '
                    f'got {found_k}')
            sq_dist, found = self._index.search(q, found_k)
        valid = found >= 0
        distances[:, :found_k] = np.where(valid, np.sqrt(np.maximum(sq_dist, 0.0)), np.inf)
        ids[:, :found_k] = np.where(valid, found, -1)
        return SearchResult(distances, ids)

    def vectors(self) -> np.ndarray:
        """Return a (ntotal, dim) float32 CPU copy of every vector added."""
        return self._data.copy()

    def save(self, directory) -> None:
        """Write index.json, index_vectors.safetensors and, for ivf/hnsw, index.faiss."""
        if self._index is None and self.config.backend == 'faiss':
            raise ConfigError("save: an 'ivf' index must be built before it can be saved")
        cpu = None
        if self.config.kind != 'flat':
            cpu = faiss_backend.to_cpu(self._index, self.device)
        write_index(directory, self.config, self._data, cpu)

    @classmethod
    def load(cls, directory, device: str = 'auto') -> 'RetrievalIndex':
        """Read an index that save() wrote, checking every file, onto the chosen device."""
        config, vectors, cpu = read_index(directory)
        index = cls(vectors.shape[1], config, device)
        if config.kind == 'flat':
            if len(vectors):
                index.build(vectors)
            return index
        faiss_backend.configure(cpu, config)
        index._index = faiss_backend.place(cpu, index.device)
        index._data = vectors
        return index

    def _as_array(self, values, name: str) -> np.ndarray:
        if isinstance(values, torch.Tensor):
            values = values.detach().to('cpu', torch.float32).numpy()
        x = np.ascontiguousarray(values, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f'{name}: expected shape (N, {self.dim}), got {x.shape}')
        if not np.isfinite(x).all():
            bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
            raise ValueError(f'{name}: expected finite values, got NaN/Inf in {bad.size} rows '
                             f'(first: row {bad[0]})')
        return x

    def _as_tensor(self, values) -> torch.Tensor:
        if not isinstance(values, torch.Tensor):
            return torch.from_numpy(self._as_array(values, 'queries')).to(self.device)
        q = values.detach().to(self.device, torch.float32).contiguous()
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f'queries: expected shape (N, {self.dim}), got {tuple(q.shape)}')
        if not bool(torch.isfinite(q).all()):
            raise ValueError('queries: expected finite values, got NaN/Inf')
        return q
