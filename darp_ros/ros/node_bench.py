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


"""`darp bench --node` for a bundle or for each synthetic policy: bundles saved, probe run."""

from pathlib import Path
import tempfile
from typing import Optional

from darp_ros.bench.runner import BenchOptions, FORMAT, FORMAT_VERSION, index_config, set_threads
from darp_ros.bench.synthetic_model import SyntheticDeployment, SyntheticSetup
from darp_ros.core.bundle import save_bundle
from darp_ros.core.errors import ConfigError
from darp_ros.core.machine import machine
from darp_ros.ros.latency_probe import run_node_bench


def run_node(model: Optional[str], options: BenchOptions, rate_hz: float) -> dict:
    """Measure message in -> command out for the bundle, or for each synthetic policy."""
    if len(options.index_sizes) != 1 or len(options.index_types) != 1:
        raise ConfigError('--node: expected one --index-size and one --index-type, got '
                          f'{list(options.index_sizes)} and {list(options.index_types)}')
    set_threads(options.threads)
    report = {'format': FORMAT, 'format_version': FORMAT_VERSION, 'mode': 'node',
              'machine': machine(), 'options': _options(options), 'rate_hz': rate_hz,
              'policies': {}}
    if model:
        report.update(model=str(model), index_size=None, index_type=None, feature_dim=None)
        report['policies']['bundle'] = run_node_bench(model, options.steps, rate_hz,
                                                      options.threads, options.device)
        return report
    setup = SyntheticSetup(rows=options.index_sizes[0], low_dim=options.low_dim,
                           cameras=options.cameras, image_size=options.image_size,
                           index=index_config(options.index_types[0]), device='cpu',
                           seed=options.seed)
    deployment = SyntheticDeployment(setup)
    report.update(index_size=setup.rows, index_type=options.index_types[0],
                  feature_dim=setup.obs_spec().feature_dim)
    with tempfile.TemporaryDirectory(prefix='darp-bench-') as folder:
        for name in options.policies:
            bundle = save_bundle(deployment.model(name), Path(folder) / name)
            report['policies'][name] = run_node_bench(bundle, options.steps, rate_hz,
                                                      options.threads, options.device)
    return report


def _options(options: BenchOptions) -> dict:
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in vars(options).items()}
