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
Is an approximate index worth it: its recall@k against exact search, and its speed-up.

The issue's rule: use ivf or hnsw only where it is at least 2x faster than exact search at
recall@k >= 0.95. Both are measured here on the same vectors and queries, one query per
search call, the way a control loop searches.
"""

import time
from typing import Dict, Sequence

from darp_ros.bench.step_bench import summarize
from darp_ros.core.errors import ConfigError
from darp_ros.core.index import IndexConfig, RetrievalIndex
import numpy as np

MIN_RECALL = 0.95
MIN_SPEEDUP = 2.0


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Return the mean fraction of each row's exact k ids that `found` (Q, k) also holds."""
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape != exact.shape or found.ndim != 2 or found.shape[1] == 0:
        raise ConfigError(f'recall_at_k: expected two (Q, k) id arrays of one shape, got '
                          f'{found.shape} and {exact.shape}')
    hits = [np.intersect1d(f[f >= 0], e[e >= 0]).size / max(1, int((e >= 0).sum()))
            for f, e in zip(found, exact)]
    return float(np.mean(hits))


def near_queries(vectors: np.ndarray, count: int, noise: float = 0.1,
                 seed: int = 0) -> np.ndarray:
    """Return count queries: random indexed vectors plus Gaussian noise, as a rollout sees."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(vectors), size=count)
    jitter = noise * rng.standard_normal((count, vectors.shape[1])).astype(np.float32)
    return (vectors[rows] + jitter).astype(np.float32)


def time_searches(index: RetrievalIndex, queries: np.ndarray, k: int) -> tuple:
    """Search one query at a time; return (ids (Q, k), per-query seconds)."""
    ids, seconds = [], []
    for row in range(len(queries)):
        query = queries[row:row + 1]
        start = time.perf_counter()
        found = index.search(query, k)
        seconds.append(time.perf_counter() - start)
        ids.append(found.ids[0])
    return np.stack(ids), seconds


def compare_indexes(vectors: np.ndarray, queries: np.ndarray, k: int,
                    configs: Sequence[IndexConfig], device: str = 'cpu',
                    warmup: int = 20) -> Dict[str, dict]:
    """
    Return {name: {build_s, search stats, recall_at_k, speedup, worth_it}} per index config.

    The reference is a faiss flat index on the same device; its own entry has recall 1.
    """
    exact = RetrievalIndex(vectors.shape[1], IndexConfig('flat'), device)
    exact.build(vectors)
    time_searches(exact, queries[:warmup], k)
    truth, exact_seconds = time_searches(exact, queries, k)
    exact_median = summarize(exact_seconds)['median_ms']
    out = {}
    for config in configs:
        name = config.kind if config.backend == 'faiss' else config.backend
        start = time.perf_counter()
        index = RetrievalIndex(vectors.shape[1], config, device)
        index.build(vectors)
        build_s = time.perf_counter() - start
        time_searches(index, queries[:warmup], k)
        found, seconds = time_searches(index, queries, k)
        stats = summarize(seconds)
        recall = recall_at_k(found, truth)
        speedup = exact_median / stats['median_ms'] if stats['median_ms'] > 0 else float('inf')
        out[name] = {'config': config.to_dict(), 'device': index.device, 'build_s': build_s,
                     'search': stats, 'recall_at_k': recall, 'k': k, 'speedup': speedup,
                     'worth_it': bool(recall >= MIN_RECALL and speedup >= MIN_SPEEDUP)}
    return out
