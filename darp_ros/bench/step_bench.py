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
Per-step latency of a PolicyRuntime: a plain pass for the totals, a timed pass for stages.

The plain pass calls runtime.step exactly as the node does; the timed pass wraps the
functions the step calls (see stage_clock) to split the same step into stages. Both come
after a warm-up and cycle through pre-made observations, so no test data is made in the loop.
"""

from dataclasses import dataclass, field
import time
from typing import Callable, Dict, List, Optional, Sequence

from darp_ros.bench.stage_clock import StageClock
from darp_ros.control.safety import build_filter, CommandFilter
from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime
import numpy as np
import torch

# In step order. postprocess is whatever runtime.step does outside the wrapped calls:
# z-scoring, denormalizing, the finite check and the neighbor records.
STAGES = ('preprocess', 'encode', 'search', 'policy', 'novelty', 'postprocess', 'safety')
TOTALS = ('total', 'total_without_novelty', 'total_plain')
MIN_STEPS = 1
# Policies take turns in blocks of this many steps. The shared 2-core machine drifted by 20 %
# within one run (the same encoder took 23 ms in BC's turn and 28 ms in DARP's when each
# policy ran all its steps in one go); taking turns spreads the drift over every policy.
BLOCK = 25


def summarize(seconds: Sequence[float]) -> Dict[str, float]:
    """Return median, p99, mean and max of a series of durations, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    if ms.size == 0:
        return {'median_ms': float('nan'), 'p99_ms': float('nan'), 'mean_ms': float('nan'),
                'max_ms': float('nan')}
    return {'median_ms': float(np.median(ms)), 'p99_ms': float(np.quantile(ms, 0.99)),
            'mean_ms': float(ms.mean()), 'max_ms': float(ms.max())}


def device_sync(device) -> Callable[[], None]:
    """Return a function that waits for queued GPU work on device, or does nothing on CPU."""
    if torch.device(device).type == 'cuda':
        return torch.cuda.synchronize
    return lambda: None


def bench_filter(action_dim: int) -> CommandFilter:
    """Return the safety layer of an 'array' command as wide as the action, reset at zero."""
    safety = build_filter('array', {'lower': -1e3, 'upper': 1e3, 'max_step': 1e3}, action_dim)
    safety.reset(None)
    return safety


@dataclass
class PolicyLatency:
    """Per-stage and total latency series of one policy, in seconds per step."""

    policy: str
    steps: int
    series: Dict[str, List[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return {policy, steps, stages: {name: stats}, totals: {name: stats}} in ms."""
        return {'policy': self.policy, 'steps': self.steps,
                'stages': {s: summarize(self.series[s]) for s in STAGES},
                'totals': {t: summarize(self.series[t]) for t in TOTALS}}


class StepBench:
    """Measure runtime.step plus the safety filter over a cycle of observations."""

    def __init__(self, runtime: PolicyRuntime, observations: Sequence[dict],
                 safety: Optional[CommandFilter] = None):
        if not observations:
            raise ConfigError('StepBench: expected at least one observation, got none')
        self.runtime = runtime
        self.observations = list(observations)
        self.safety = safety if safety is not None else bench_filter(runtime.action_dim)
        self.sync = device_sync(runtime.device)
        self.clock = StageClock(self.sync)

    def run(self, steps: int, warmup: int = 50) -> PolicyLatency:
        """Warm up, then time `steps` plain steps and `steps` stage-timed steps."""
        return run_interleaved([self], steps, warmup)[0]

    def warm_up(self, warmup: int) -> None:
        """Start a new rollout and run warmup untimed steps."""
        self.runtime.reset()
        for i in range(warmup):
            self._step(i)

    def plain(self, first: int, count: int, series: Dict[str, List[float]]) -> None:
        """Time steps first.. as the node makes them, into series['total_plain']."""
        self._step(first)   # untimed: the turn before may have left other data in the caches
        series['total_plain'].extend(self._plain_step(i) for i in range(first, first + count))

    def timed(self, first: int, count: int, series: Dict[str, List[float]]) -> None:
        """Time steps first.. stage by stage, into series."""
        self._step(first)
        self._install()
        try:
            for i in range(first, first + count):
                self._timed_step(i, series)
        finally:
            self.clock.uninstall()

    def _step(self, i: int) -> None:
        obs = self.observations[i % len(self.observations)]
        self.safety.apply(self.runtime.step(obs).action, 0.05)

    def _plain_step(self, i: int) -> float:
        self.sync()
        start = time.perf_counter()
        self._step(i)
        self.sync()
        return time.perf_counter() - start

    def _timed_step(self, i: int, series: Dict[str, List[float]]) -> None:
        obs = self.observations[i % len(self.observations)]
        clock = self.clock
        clock.start()
        self.sync()
        start = time.perf_counter()
        action = self.runtime.step(obs).action
        self.sync()
        stepped = time.perf_counter()
        self.safety.apply(action, 0.05)
        end = time.perf_counter()
        seconds = clock.seconds
        inside = sum(seconds.get(s, 0.0) for s in ('preprocess', 'encode', 'search', 'policy',
                                                   'novelty'))
        for stage in STAGES[:-2]:
            series[stage].append(seconds.get(stage, 0.0))
        series['postprocess'].append(max(0.0, stepped - start - inside))
        series['safety'].append(end - stepped)
        series['total'].append(end - start)
        series['total_without_novelty'].append(end - start - seconds.get('novelty', 0.0))

    def _install(self) -> None:
        runtime, clock = self.runtime, self.clock
        clock.install(runtime.extractor, 'one', 'preprocess')
        encoder = runtime.extractor.encoder
        if encoder is not None:
            clock.install(encoder, 'trunk', 'encode')
        clock.install(runtime.model.memory.index, 'search', 'search')
        clock.install(runtime.model.policy, 'act', 'policy')
        clock.install(runtime, '_novelty', 'novelty')


def run_interleaved(benches: Sequence[StepBench], steps: int, warmup: int = 50,
                    block: int = BLOCK) -> List[PolicyLatency]:
    """
    Time several benches taking turns: plain steps first, then stage-timed steps.

    Each bench runs `block` steps in its turn (after one untimed step), then the next bench,
    until every bench has `steps` of each kind.
    """
    for name, value, minimum in (('steps', steps, MIN_STEPS), ('warmup', warmup, 0),
                                 ('block', block, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f'StepBench.{name}: expected an int >= {minimum}, got {value!r}')
    results = [PolicyLatency(bench.runtime.policy_name, steps,
                             {name: [] for name in STAGES + TOTALS}) for bench in benches]
    for bench in benches:
        bench.warm_up(warmup)
    for phase in (StepBench.plain, StepBench.timed):
        for first in range(0, steps, block):
            count = min(block, steps - first)
            for bench, result in zip(benches, results):
                phase(bench, first, count, result.series)
    return results
