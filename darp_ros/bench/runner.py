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
What `darp bench` measures: every policy at every index size and kind, plus index recall.

BC, VINN and DARP share the encoder, the rows and the observations of one synthetic
deployment, so their difference is the policy alone. The result is a plain dict, written
as JSON and rendered to markdown by report.py.
"""

from dataclasses import dataclass
import logging
from typing import Dict, Optional, Sequence, Tuple

from darp_ros.bench.recall import compare_indexes, near_queries
from darp_ros.bench.step_bench import run_interleaved, StepBench
from darp_ros.bench.synthetic_model import SyntheticDeployment, SyntheticSetup
from darp_ros.core.errors import ConfigError
from darp_ros.core.index import IndexConfig, set_search_threads
from darp_ros.core.machine import machine
from darp_ros.core.policies import policy_names
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.spec import ObservationSpec
import numpy as np
import torch

logger = logging.getLogger(__name__)
INDEX_TYPES = ('flat', 'ivf', 'hnsw', 'torch')
RECALL_TYPES = ('ivf', 'hnsw', 'torch')
FORMAT = 'darp_ros.bench'
FORMAT_VERSION = 1


def index_config(index_type: str) -> IndexConfig:
    """Return the IndexConfig of a bench index type ('torch' is exact search in torch)."""
    if index_type not in INDEX_TYPES:
        raise ConfigError(f'index type: expected one of {INDEX_TYPES}, got {index_type!r}')
    if index_type == 'torch':
        return IndexConfig('flat', 'torch')
    return IndexConfig(index_type)


def _positive(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f'{name}: expected an int >= {minimum}, got {value!r}')


@dataclass(frozen=True)
class BenchOptions:
    """Everything a bench run varies; validated on construction."""

    index_sizes: Tuple[int, ...] = (100_000,)
    index_types: Tuple[str, ...] = ('flat',)
    policies: Tuple[str, ...] = ('bc', 'vinn', 'darp')
    device: str = 'cpu'
    cameras: int = 0
    image_size: int = 84
    low_dim: int = 19
    steps: int = 1000
    warmup: int = 50
    threads: int = 1
    recall_k: int = 0
    recall_queries: int = 1000
    seed: int = 0

    def __post_init__(self):
        """Reject empty lists, unknown names and out-of-range numbers."""
        if not self.index_sizes:
            raise ConfigError('index sizes: expected at least one, got none')
        for size in self.index_sizes:
            _positive('index size', size, 2)
        for kind in self.index_types:
            index_config(kind)
        unknown = sorted(set(self.policies) - set(policy_names()))
        if unknown or not self.policies:
            raise ConfigError(f'policies: expected some of {list(policy_names())}, '
                              f'got {list(self.policies)}')
        if self.device not in ('cpu', 'cuda'):
            raise ConfigError(f"device: expected 'cpu' or 'cuda', got {self.device!r}")
        if self.device == 'cuda' and not torch.cuda.is_available():
            raise ConfigError('device: cuda was asked for but torch sees no CUDA GPU')
        for name, minimum in (('steps', 1), ('warmup', 0), ('threads', 1), ('cameras', 0),
                              ('image_size', 8), ('low_dim', 0), ('recall_k', 0),
                              ('recall_queries', 1)):
            _positive(name, getattr(self, name), minimum)
        if self.low_dim == 0 and self.cameras == 0:
            raise ConfigError('observation: expected --low-dim > 0 or --cameras > 0, got neither')


def set_threads(count: int) -> None:
    """Give torch and faiss the same CPU thread count (the node's cpu_threads)."""
    torch.set_num_threads(count)
    set_search_threads(count)


def ratios(policies: Dict[str, dict]) -> dict:
    """Return DARP's (and VINN's) median and p99 over BC's, with and without BC's novelty."""
    out = {}
    bc = policies.get('bc')
    if bc is None:
        return out
    for name, result in policies.items():
        if name == 'bc':
            continue
        mine = result['totals']['total']
        for suffix, theirs in (('', bc['totals']['total']),
                               ('_without_bc_novelty', bc['totals']['total_without_novelty'])):
            out[f'{name}_over_bc_median{suffix}'] = mine['median_ms'] / theirs['median_ms']
            out[f'{name}_over_bc_p99{suffix}'] = mine['p99_ms'] / theirs['p99_ms']
    return out


def bench_runtime(runtime: PolicyRuntime, observations, options: BenchOptions) -> dict:
    """Measure one runtime and return its stage and total statistics."""
    return StepBench(runtime, observations).run(options.steps, options.warmup).to_dict()


def run_synthetic(options: BenchOptions) -> dict:
    """Bench every policy on every (index size, index type); add recall when asked."""
    set_threads(options.threads)
    runs = []
    for size in options.index_sizes:
        for kind in options.index_types:
            setup = SyntheticSetup(rows=size, low_dim=options.low_dim, cameras=options.cameras,
                                   image_size=options.image_size, index=index_config(kind),
                                   device=options.device, seed=options.seed)
            logger.info('building a synthetic deployment: %d rows, %s index, feature dim %d',
                        size, kind, setup.obs_spec().feature_dim)
            deployment = SyntheticDeployment(setup)
            observations = deployment.observations(64)
            benches = [StepBench(PolicyRuntime(deployment.model(name)), observations)
                       for name in options.policies]
            logger.info('timing %s over %d steps each, taking turns', list(options.policies),
                        options.steps)
            results = run_interleaved(benches, options.steps, options.warmup)
            policies = {name: result.to_dict() for name, result in zip(options.policies, results)}
            runs.append({'index_size': size, 'index_type': kind,
                         'index_device': deployment.memory.index.device,
                         'feature_dim': setup.obs_spec().feature_dim, 'policies': policies,
                         'ratios': ratios(policies)})
            if options.recall_k and kind == options.index_types[0]:
                runs[-1]['recall'] = _recall(deployment, options)
            del deployment
    return {'format': FORMAT, 'format_version': FORMAT_VERSION, 'mode': 'synthetic',
            'machine': machine(), 'options': _options_dict(options), 'runs': runs}


def _recall(deployment: SyntheticDeployment, options: BenchOptions) -> dict:
    vectors = deployment.memory.index.vectors()
    queries = near_queries(vectors, options.recall_queries, seed=options.seed)
    configs = [index_config(kind) for kind in RECALL_TYPES]
    logger.info('recall@%d of %s against exact search', options.recall_k, list(RECALL_TYPES))
    return compare_indexes(vectors, queries, options.recall_k, configs, options.device)


def spec_observations(spec: ObservationSpec, mean: np.ndarray, std: np.ndarray, count: int,
                      seed: int = 0) -> list:
    """Return count raw observations of a spec: low-dim keys around the bundle's mean."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        obs, offset = {}, 0
        for key in spec.keys:
            width = key.feature_dim
            if key.kind == 'rgb':
                obs[key.name] = rng.integers(0, 256, key.shape, dtype=np.uint8)
            else:
                part = mean[offset:offset + width] + std[offset:offset + width] * \
                    rng.standard_normal(width)
                obs[key.name] = part.reshape(key.shape).astype(np.float32)
            offset += width
        out.append(obs)
    return out


def run_bundle(directory, options: BenchOptions, policies: Optional[Sequence[str]] = None
               ) -> dict:
    """Bench a saved model bundle on observations shaped by its spec."""
    set_threads(options.threads)
    runtime = PolicyRuntime.load(directory, options.device)
    normalizer = runtime.model.state_normalizer
    observations = spec_observations(runtime.obs_spec, normalizer.mean, normalizer.std, 64,
                                     options.seed)
    memory = runtime.model.memory
    run = {'index_size': len(memory), 'index_type': memory.index.config.kind,
           'index_device': memory.index.device, 'feature_dim': memory.state_dim,
           'policies': {runtime.policy_name: bench_runtime(runtime, observations, options)},
           'ratios': {}}
    return {'format': FORMAT, 'format_version': FORMAT_VERSION, 'mode': 'bundle',
            'model': str(directory), 'machine': machine(), 'options': _options_dict(options),
            'runs': [run]}


def _options_dict(options: BenchOptions) -> dict:
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in vars(options).items()}
