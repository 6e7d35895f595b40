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

"""The faiss side of the index: building flat/IVF/HNSW indexes, GPU placement, threads."""

from darp_ros.core.errors import ConfigError
from darp_ros.core.index.config import auto_nlist, check_int, IndexConfig
import faiss

# faiss GPU k-selection is limited to k <= 2048.
GPU_MAX_K = 2048

_gpu_resources = None


def set_search_threads(count: int) -> None:
    """
    Let faiss use count OpenMP threads, as torch.set_num_threads does for torch.

    faiss defaults to every core; its threads spin-wait, so on a small loaded machine a
    single-query search got a p99 of 30 ms with 2 threads against 2-8 ms with 1 (measured).
    """
    check_int('set_search_threads', 'count', count, 1)
    faiss.omp_set_num_threads(int(count))


def gpu_count() -> int:
    """Return how many GPUs faiss sees."""
    return faiss.get_num_gpus()


def new_index(config: IndexConfig, dim: int, n: int):
    """Return an empty CPU faiss index of config.kind; n (the build size) sizes IVF cells."""
    if config.kind == 'flat':
        index = faiss.IndexFlatL2(dim)
    elif config.kind == 'ivf':
        nlist = config.nlist or auto_nlist(n)
        if nlist > n:
            raise ConfigError(f'IndexConfig.nlist: expected at most N={n} (the build size) '
                              f'so every cell gets a training vector, got {nlist}')
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, nlist)
    else:
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m)
        index.hnsw.efConstruction = config.ef_construction
    configure(index, config)
    return index


def configure(index, config: IndexConfig) -> None:
    """Set the search-time parameters (IVF nprobe, HNSW efSearch) of a built or read index."""
    if config.kind == 'ivf':
        index.nprobe = min(config.nprobe, index.nlist)
    elif config.kind == 'hnsw':
        index.hnsw.efSearch = config.ef_search


def place(cpu_index, device: str):
    """Return the index on device: itself on CPU, a GPU copy on 'cuda'."""
    if device != 'cuda':
        return cpu_index
    return faiss.index_cpu_to_gpu(_faiss_gpu_resources(), 0, cpu_index)


def to_cpu(index, device: str):
    """Return a CPU copy of an index placed on device (itself on CPU)."""
    return faiss.index_gpu_to_cpu(index) if device == 'cuda' else index


def _faiss_gpu_resources():
    # One resource object per process: each one reserves GPU scratch memory.
    global _gpu_resources
    if _gpu_resources is None:
        _gpu_resources = faiss.StandardGpuResources()
    return _gpu_resources
