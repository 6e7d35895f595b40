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
Closed-loop return of a policy in a gymnasium MuJoCo environment (Hopper-v5, Walker2d-v5...).

The paper's locomotion tasks are scored by episode return, not success. Episodes run in
lockstep, one environment per seed, so a policy with history acts on one batch of B
parallel rollouts per step (PolicyRuntime.act_batch): one retrieval per step for all
episodes instead of one per episode. Episode i starts from `env.reset(seed=seed + i)`.
"""

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
import multiprocessing
import time
from typing import List, Mapping, Optional, Sequence

from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.stats import latency_summary
import numpy as np

DEFAULT_HORIZON = 1000
# Lockstep batches bigger than this gain nothing on a CPU and hold many simulators.
MAX_BATCH = 50


def is_gymnasium(env_args: Mapping) -> bool:
    """Return True when env_args name a registered gymnasium environment."""
    name = (env_args or {}).get('env_name', '')
    if not name:
        return False
    import gymnasium
    return name in gymnasium.registry


def make_gym_env(env_args: Mapping):
    """Build the environment env_args name, with its env_kwargs."""
    import gymnasium
    name = env_args.get('env_name', '')
    if name not in gymnasium.registry:
        raise ConfigError(f'{name!r} is not a registered gymnasium environment')
    return gymnasium.make(name, **dict(env_args.get('env_kwargs') or {}))


@dataclass(frozen=True)
class GymEpisode:
    """One episode: the sum of the environment's rewards and how long it lasted."""

    seed: int
    episode_return: float
    steps: int

    def summary(self) -> dict:
        """Return the JSON-friendly figures."""
        return {'seed': self.seed, 'return': self.episode_return, 'steps': self.steps}


@dataclass
class GymReport:
    """Returns of one policy over a seed range."""

    model: str
    env_name: str
    policy: str
    seed: int
    horizon: int
    episodes: List[GymEpisode] = field(default_factory=list)
    latencies_s: List[float] = field(default_factory=list)

    @property
    def returns(self) -> np.ndarray:
        """Return the episode returns in seed order."""
        return np.array([e.episode_return for e in self.episodes], dtype=np.float64)

    @property
    def mean(self) -> float:
        """Return the mean episode return."""
        return float(self.returns.mean()) if self.episodes else float('nan')

    @property
    def std(self) -> float:
        """Return the standard deviation of the episode returns (over episodes)."""
        return float(self.returns.std()) if self.episodes else float('nan')

    def to_dict(self) -> dict:
        """Return every figure, JSON-ready."""
        return {
            'model': self.model, 'env': self.env_name, 'policy': self.policy,
            'episodes': len(self.episodes), 'return_mean': self.mean, 'return_std': self.std,
            'return_min': float(self.returns.min()) if self.episodes else None,
            'return_max': float(self.returns.max()) if self.episodes else None,
            'mean_steps': float(np.mean([e.steps for e in self.episodes]))
            if self.episodes else None,
            'seeds': [self.seed, self.seed + len(self.episodes) - 1], 'horizon': self.horizon,
            # Per step of the whole lockstep batch, divided by the batch size.
            'latency_per_episode_step': latency_summary(self.latencies_s),
            'per_episode': [e.summary() for e in self.episodes],
        }

    def text(self) -> str:
        """Return the human summary printed by `darp eval`."""
        lines = [f'{self.policy} on {self.env_name}: return {self.mean:.1f} '
                 f'(std {self.std:.1f}) over {len(self.episodes)} episodes, seeds '
                 f'{self.seed}..{self.seed + len(self.episodes) - 1}']
        if self.episodes:
            lines.append(f'min {self.returns.min():.1f}, max {self.returns.max():.1f}, mean '
                         f'steps {np.mean([e.steps for e in self.episodes]):.1f} '
                         f'(horizon {self.horizon})')
        return '\n'.join(lines)


def check_gym_compatible(runtime: PolicyRuntime, env) -> str:
    """Return the bundle's one observation key, or raise ConfigError naming the mismatch."""
    keys = runtime.obs_spec.keys
    if len(keys) != 1 or keys[0].kind == 'rgb':
        raise ConfigError('a gymnasium environment gives one flat observation vector; the '
                          f'bundle observes {[k.name for k in keys]}')
    width = int(np.prod(env.observation_space.shape))
    if tuple(keys[0].shape) != (width,):
        raise ConfigError(f'observation {keys[0].name!r}: the bundle expects shape '
                          f'{tuple(keys[0].shape)}, {env.spec.id} gives ({width},)')
    if int(np.prod(env.action_space.shape)) != runtime.action_dim:
        raise ConfigError(f'the bundle acts with {runtime.action_dim} values, {env.spec.id} '
                          f'takes {env.action_space.shape}')
    return keys[0].name


def run_lockstep(runtime: PolicyRuntime, env_args: Mapping, seeds: Sequence[int],
                 horizon: int = DEFAULT_HORIZON, latencies: Optional[list] = None
                 ) -> List[GymEpisode]:
    """
    Run one episode per seed, all in lockstep, with one batched policy call per step.

    An episode that terminated keeps feeding its last observation (its actions are thrown
    away), so the batch never changes shape and each rollout's history stays its own.
    """
    if horizon < 1:
        raise ConfigError(f'horizon must be >= 1, found {horizon}')
    envs = [make_gym_env(env_args) for _ in seeds]
    try:
        key = check_gym_compatible(runtime, envs[0])
        low, high = envs[0].action_space.low, envs[0].action_space.high
        obs = np.stack([env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds)])
        returns = np.zeros(len(envs))
        steps = np.zeros(len(envs), dtype=np.int64)
        running = np.ones(len(envs), dtype=bool)
        runtime.reset()
        for _ in range(horizon):
            start = time.perf_counter()
            actions = runtime.act_batch({key: obs.astype(np.float32)})
            if latencies is not None:
                latencies.append((time.perf_counter() - start) / len(envs))
            for i in np.flatnonzero(running):
                # MuJoCo clamps to ctrlrange anyway; clipping here keeps that explicit.
                ob, reward, terminated, truncated, _ = envs[i].step(
                    np.clip(actions[i], low, high))
                obs[i] = ob
                returns[i] += reward
                steps[i] += 1
                running[i] = not (terminated or truncated)
            if not running.any():
                break
    finally:
        for env in envs:
            env.close()
    return [GymEpisode(int(s), float(r), int(n)) for s, r, n in zip(seeds, returns, steps)]


def _chunks(seeds: Sequence[int], parts: int) -> List[List[int]]:
    parts = max(1, min(parts, len(seeds)))
    return [list(chunk) for chunk in np.array_split(np.asarray(seeds), parts) if len(chunk)]


def _run_bundle_chunk(model_dir: str, device: str, env_args: dict, seeds: List[int],
                      horizon: int):
    import torch
    # Workers share the machine's cores: one thread each avoids oversubscription.
    torch.set_num_threads(1)
    latencies: list = []
    runtime = PolicyRuntime.load(model_dir, device)
    return run_lockstep(runtime, env_args, seeds, horizon, latencies), latencies


def evaluate_runtime(runtime: PolicyRuntime, env_args: Mapping, seed: int, episodes: int,
                     horizon: int = DEFAULT_HORIZON, model: str = '') -> GymReport:
    """Evaluate an in-memory runtime in this process (training-time selection uses this)."""
    if episodes < 1:
        raise ConfigError(f'episodes must be >= 1, found {episodes}')
    report = GymReport(model, env_args['env_name'], runtime.policy_name, seed, horizon)
    seeds = list(range(seed, seed + episodes))
    for chunk in _chunks(seeds, -(-len(seeds) // MAX_BATCH)):
        report.episodes += run_lockstep(runtime, env_args, chunk, horizon, report.latencies_s)
    return report


def evaluate_gym_bundle(model_dir: str, seed: int, episodes: int, workers: int = 1,
                        horizon: Optional[int] = None, device: str = 'cpu',
                        env_args: Optional[Mapping] = None) -> GymReport:
    """Evaluate the bundle in model_dir in the gymnasium environment its env_args name."""
    if episodes < 1:
        raise ConfigError(f'episodes must be >= 1, found {episodes}')
    runtime = PolicyRuntime.load(model_dir, device)
    env_args = dict(env_args or runtime.model.env_args)
    if not is_gymnasium(env_args):
        raise ConfigError(f'{model_dir}: env_args {env_args.get("env_name")!r} name no '
                          'registered gymnasium environment')
    horizon = horizon or DEFAULT_HORIZON
    if workers <= 1:
        return evaluate_runtime(runtime, env_args, seed, episodes, horizon, str(model_dir))
    report = GymReport(str(model_dir), env_args['env_name'], runtime.policy_name, seed, horizon)
    seeds = list(range(seed, seed + episodes))
    parts = _chunks(seeds, max(workers, -(-len(seeds) // MAX_BATCH)))
    context = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(min(workers, len(parts)), mp_context=context) as pool:
        futures = [pool.submit(_run_bundle_chunk, str(model_dir), device, env_args, part,
                               horizon) for part in parts]
        for future in futures:
            episodes_done, latencies = future.result()
            report.episodes += episodes_done
            report.latencies_s += latencies
    report.episodes.sort(key=lambda e: e.seed)
    return report
