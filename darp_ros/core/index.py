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

"""K-nearest-neighbour index over expert states: faiss flat/IVF/HNSW or exact torch search."""

import dataclasses
from dataclasses import dataclass
import json
import logging
import math
from pathlib import Path
from typing import NamedTuple

from darp_ros.core.errors import BundleError, ConfigError
import faiss
import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
import torch

INDEX_KINDS = ('flat', 'ivf', 'hnsw')
INDEX_BACKENDS = ('faiss', 'torch')
DEVICES = ('auto', 'cpu', 'cuda')
FORMAT_NAME = 'darp_ros.retrieval_index'
FORMAT_VERSION = 1
META_FILE = 'index.json'
VECTORS_FILE = 'index_vectors.safetensors'
FAISS_FILE = 'index.faiss'
# One query-by-database block of the torch backend holds at most this many floats (64 MiB).
_TORCH_BLOCK = 1 << 24
# faiss GPU k-selection is limited to k <= 2048.
_FAISS_GPU_MAX_K = 2048

_LOG = logging.getLogger(__name__)
_gpu_resources = None


def _check_int(owner, name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f'{owner}.{name}: expected an int >= {minimum}, got {value!r}')


@dataclass(frozen=True)
class IndexConfig:
    """Which index structure and backend a RetrievalIndex uses, with its search parameters."""

    kind: str = 'flat'
    backend: str = 'faiss'
    nlist: int = 0
    nprobe: int = 16
    hnsw_m: int = 32
    ef_search: int = 128
    ef_construction: int = 200

    def __post_init__(self):
        """Reject unknown kinds/backends and out-of-range parameters."""
        if self.kind not in INDEX_KINDS:
            raise ConfigError(
                f'IndexConfig.kind: expected one of {INDEX_KINDS}, got {self.kind!r}')
        if self.backend not in INDEX_BACKENDS:
            raise ConfigError(
                f'IndexConfig.backend: expected one of {INDEX_BACKENDS}, got {self.backend!r}')
        if self.backend == 'torch' and self.kind != 'flat':
            raise ConfigError(
                "IndexConfig.kind: backend 'torch' is exact search only, expected 'flat', "
                f'got {self.kind!r}')
        for name, minimum in (('nlist', 0), ('nprobe', 1), ('hnsw_m', 2), ('ef_search', 1),
                              ('ef_construction', 1)):
            _check_int('IndexConfig', name, getattr(self, name), minimum)

    def to_dict(self) -> dict:
        """Return the fields as a JSON-able dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data) -> 'IndexConfig':
        """Build a config from a dict such as to_dict() wrote, rejecting unknown keys."""
        if not isinstance(data, dict):
            raise ConfigError(f'IndexConfig: expected a dict, got {type(data).__name__}')
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f'IndexConfig: unknown keys {unknown}, expected some of {known}')
        return cls(**data)


class SearchResult(NamedTuple):
    """Per query row: Euclidean distances ascending and row ids (-1 and inf pad missing ones)."""

    distances: np.ndarray
    ids: np.ndarray


def auto_nlist(n: int) -> int:
    """Return the IVF cell count for n vectors: about 4*sqrt(n), >= 39 training points each."""
    return max(1, min(int(round(4.0 * math.sqrt(n))), n // 39))


def set_search_threads(count: int) -> None:
    """
    Let faiss use count OpenMP threads, as torch.set_num_threads does for torch.

    faiss defaults to every core; its threads spin-wait, so on a small loaded machine a
    single-query search got a p99 of 30 ms with 2 threads against 2-8 ms with 1 (measured).
    """
    _check_int('set_search_threads', 'count', count, 1)
    faiss.omp_set_num_threads(int(count))


def _faiss_gpu_resources():
    # One resource object per process: each one reserves GPU scratch memory.
    global _gpu_resources
    if _gpu_resources is None:
        _gpu_resources = faiss.StandardGpuResources()
    return _gpu_resources


def _resolve_device(config: IndexConfig, device: str) -> str:
    if device not in DEVICES:
        raise ConfigError(f'RetrievalIndex.device: expected one of {DEVICES}, got {device!r}')
    if config.backend == 'torch':
        has_gpu = torch.cuda.is_available()
    else:
        has_gpu = faiss.get_num_gpus() > 0
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
        _check_int('RetrievalIndex', 'dim', dim, 1)
        if not isinstance(config, IndexConfig):
            raise ConfigError(
                f'RetrievalIndex.config: expected an IndexConfig, got {type(config).__name__}')
        self.dim = int(dim)
        self.config = config
        self.device = _resolve_device(config, device)
        self._data = np.empty((0, self.dim), np.float32)
        self._index = None
        self._tensor = None
        self._sq_norms = None
        if config.backend == 'torch':
            self._set_tensor(self._data)
        elif config.kind != 'ivf':
            # flat and hnsw need no training, so add() works before build().
            self._index = self._place(self._new_faiss_index(0))

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
            self._set_tensor(x)
        else:
            cpu = self._new_faiss_index(x.shape[0])
            if self.config.kind == 'ivf':
                cpu.train(x)
            self._index = self._place(cpu)
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
            self._set_tensor(self._data)

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
            sq_dist, found = self._torch_search(q, found_k)
        else:
            if self.device == 'cuda' and found_k > _FAISS_GPU_MAX_K:
                raise ValueError(
                    f'search: faiss on GPU expects k <= {_FAISS_GPU_MAX_K}, got {found_k}')
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
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        save_file({'vectors': np.ascontiguousarray(self._data)}, str(path / VECTORS_FILE))
        if self.config.kind != 'flat':
            cpu = faiss.index_gpu_to_cpu(self._index) if self.device == 'cuda' else self._index
            faiss.write_index(cpu, str(path / FAISS_FILE))
        meta = {'format': FORMAT_NAME, 'format_version': FORMAT_VERSION, 'dim': self.dim,
                'ntotal': self.ntotal, 'config': self.config.to_dict()}
        # Written last: a complete index.json means the other files are complete too.
        (path / META_FILE).write_text(json.dumps(meta, indent=2) + '\n', encoding='utf-8')

    @classmethod
    def load(cls, directory, device: str = 'auto') -> 'RetrievalIndex':
        """Read an index that save() wrote, checking every file, onto the chosen device."""
        path = Path(directory)
        meta_path = path / META_FILE
        meta = _read_meta(meta_path)
        try:
            config = IndexConfig.from_dict(meta.get('config'))
        except ConfigError as error:
            raise BundleError(f'{meta_path}: bad config: {error}') from error
        dim, ntotal = meta.get('dim'), meta.get('ntotal')
        for name, value, minimum in (('dim', dim, 1), ('ntotal', ntotal, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise BundleError(
                    f'{meta_path}: expected {name} an int >= {minimum}, got {value!r}')
        vectors = _read_vectors(path / VECTORS_FILE, dim, ntotal)
        index = cls(dim, config, device)
        if config.kind == 'flat':
            if ntotal:
                index.build(vectors)
            return index
        cpu = _read_faiss(path / FAISS_FILE, config.kind, dim, ntotal)
        index._configure(cpu)
        index._index = index._place(cpu)
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

    def _set_tensor(self, x: np.ndarray) -> None:
        self._tensor = torch.from_numpy(x).to(self.device)
        self._sq_norms = (self._tensor * self._tensor).sum(dim=1)

    @torch.inference_mode()
    def _torch_search(self, q: torch.Tensor, k: int):
        # Queries go in blocks so memory stays O(block) rather than O(B * N).
        rows = max(1, _TORCH_BLOCK // self.ntotal)
        all_d, all_i = [], []
        for start in range(0, q.shape[0], rows):
            block = q[start:start + rows]
            sq = torch.addmm(self._sq_norms.unsqueeze(0), block, self._tensor.T, alpha=-2.0)
            sq += (block * block).sum(dim=1, keepdim=True)
            d, i = torch.topk(sq, k, dim=1, largest=False, sorted=True)
            all_d.append(d)
            all_i.append(i)
        return torch.cat(all_d).cpu().numpy(), torch.cat(all_i).cpu().numpy()

    def _new_faiss_index(self, n: int):
        cfg = self.config
        if cfg.kind == 'flat':
            index = faiss.IndexFlatL2(self.dim)
        elif cfg.kind == 'ivf':
            nlist = cfg.nlist or auto_nlist(n)
            if nlist > n:
                raise ConfigError(f'IndexConfig.nlist: expected at most N={n} (the build size) '
                                  f'so every cell gets a training vector, got {nlist}')
            index = faiss.IndexIVFFlat(faiss.IndexFlatL2(self.dim), self.dim, nlist)
        else:
            index = faiss.IndexHNSWFlat(self.dim, cfg.hnsw_m)
            index.hnsw.efConstruction = cfg.ef_construction
        self._configure(index)
        return index

    def _configure(self, index) -> None:
        if self.config.kind == 'ivf':
            index.nprobe = min(self.config.nprobe, index.nlist)
        elif self.config.kind == 'hnsw':
            index.hnsw.efSearch = self.config.ef_search

    def _place(self, cpu_index):
        if self.device != 'cuda':
            return cpu_index
        return faiss.index_cpu_to_gpu(_faiss_gpu_resources(), 0, cpu_index)


def _read_meta(path: Path) -> dict:
    if not path.is_file():
        raise BundleError(f'{path}: missing; expected the index metadata that save() writes')
    try:
        meta = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as error:
        raise BundleError(f'{path}: expected a JSON file, could not parse it ({error})') from error
    if not isinstance(meta, dict) or meta.get('format') != FORMAT_NAME:
        found = meta.get('format') if isinstance(meta, dict) else type(meta).__name__
        raise BundleError(f'{path}: expected format {FORMAT_NAME!r}, got {found!r}')
    if meta.get('format_version') != FORMAT_VERSION:
        raise BundleError(f'{path}: unknown format_version {meta.get("format_version")!r}, '
                          f'this darp_ros reads version {FORMAT_VERSION}')
    return meta


def _read_vectors(path: Path, dim: int, ntotal: int) -> np.ndarray:
    if not path.is_file():
        raise BundleError(f'{path}: missing; expected the index vectors that save() writes')
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise BundleError(f'{path}: expected a safetensors file, could not read it ({error})'
                          ) from error
    vectors = tensors.get('vectors')
    if vectors is None:
        raise BundleError(f"{path}: expected key 'vectors', got keys {sorted(tensors)}")
    if vectors.dtype != np.float32 or vectors.shape != (ntotal, dim):
        raise BundleError(f'{path}: expected float32 vectors of shape ({ntotal}, {dim}) as '
                          f'{META_FILE} says, got {vectors.dtype} {vectors.shape}')
    if not np.isfinite(vectors).all():
        raise BundleError(f'{path}: expected finite vectors, got NaN/Inf')
    return np.ascontiguousarray(vectors)


def _read_faiss(path: Path, kind: str, dim: int, ntotal: int):
    if not path.is_file():
        raise BundleError(f'{path}: missing; expected the trained {kind} faiss index')
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as error:
        raise BundleError(f'{path}: expected a faiss index file, could not read it ({error})'
                          ) from error
    expected = faiss.IndexIVFFlat if kind == 'ivf' else faiss.IndexHNSWFlat
    if not isinstance(index, expected):
        raise BundleError(f'{path}: expected a {expected.__name__}, got {type(index).__name__}')
    if index.d != dim or index.ntotal != ntotal:
        raise BundleError(f'{path}: expected dim {dim} and ntotal {ntotal} as {META_FILE} and '
                          f'{VECTORS_FILE} say, got dim {index.d} and ntotal {index.ntotal}')
    return index
