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
Closed-loop evaluation of a bundle in the environment its demonstrations came from.

Episode i starts from environment seed `seed + i`, so two policies evaluated with the
same seed face identical initial states.
"""

from dataclasses import dataclass, field
from typing import List, Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.stats import latency_summary, wilson_interval
from darp_ros.sim.agents import PolicyAgent
from darp_ros.sim.environment import build_env, camera_names, reset_with_seed
from darp_ros.sim.observations import dataset_obs
from darp_ros.sim.parallel import AgentSpec, RolloutJob, run_rollouts
from darp_ros.sim.rollout import EpisodeResult, run_episode
from darp_ros.sim.tasks import task_spec
import numpy as np


@dataclass(frozen=True)
class EvalOptions:
    """How to evaluate: which seeds, how long, under which distribution shift."""

    episodes: int = 50
    seed: int = 100_000
    workers: int = 1
    horizon: Optional[int] = None       # None: the task's default
    placement_scale: float = 1.0        # > 1 widens the objects' initial placement range
    obs_noise: float = 0.0              # std of noise added to low-dim observations
    device: str = 'cpu'
    video_episode: Optional[int] = None  # index of the episode to film
    progress: bool = False


@dataclass
class EvalReport:
    """Closed-loop figures for one bundle."""

    model: str
    task: str
    policy: str
    options: EvalOptions
    horizon: int
    control_rate_hz: float = 20.0
    results: List[EpisodeResult] = field(default_factory=list)
    lost_seeds: List[int] = field(default_factory=list)

    @property
    def successes(self) -> int:
        """Return the number of successful episodes."""
        return sum(r.success for r in self.results)

    @property
    def success_rate(self) -> float:
        """Return the fraction of finished episodes that succeeded."""
        return self.successes / len(self.results) if self.results else 0.0

    def to_dict(self) -> dict:
        """Return every figure, JSON-ready."""
        low, high = wilson_interval(self.successes, len(self.results))
        latencies = [t for r in self.results for t in r.latencies_s]
        return {
            'model': self.model, 'task': self.task, 'policy': self.policy,
            'episodes': len(self.results), 'successes': self.successes,
            'success_rate': self.success_rate, 'wilson95': [low, high],
            'mean_steps': float(np.mean([r.steps for r in self.results])) if self.results
            else None,
            'latency': latency_summary(latencies),
            'seeds': [self.options.seed, self.options.seed + self.options.episodes - 1],
            'horizon': self.horizon, 'control_rate_hz': self.control_rate_hz,
            'shift': {'placement_scale': self.options.placement_scale,
                      'obs_noise': self.options.obs_noise},
            'lost_seeds': self.lost_seeds,
            'failed_with_error': [r.summary() for r in self.results if r.error],
            'per_episode': [r.summary() for r in self.results],
        }

    def text(self) -> str:
        """Return the human summary printed by `darp eval`."""
        d = self.to_dict()
        low, high = d['wilson95']
        lat = d['latency']
        lines = [f"{self.policy} on {self.task}: success {self.successes}/{d['episodes']} = "
                 f'{100 * self.success_rate:.1f}% (95% CI {100 * low:.1f}-{100 * high:.1f}%)',
                 f"mean steps {d['mean_steps']:.1f} (horizon {self.horizon}), seeds "
                 f"{d['seeds'][0]}..{d['seeds'][1]}"]
        if lat['steps']:
            lines.append(f"policy step latency: median {lat['median_ms']:.2f} ms, "
                         f"p99 {lat['p99_ms']:.2f} ms over {lat['steps']} steps")
        if self.options.placement_scale != 1 or self.options.obs_noise:
            lines.append(f'distribution shift: placement x{self.options.placement_scale:g}, '
                         f'observation noise {self.options.obs_noise:g}')
        if self.lost_seeds:
            lines.append(f'LOST (worker died): seeds {self.lost_seeds}')
        errors = d['failed_with_error']
        if errors:
            lines.append(f'{len(errors)} episode(s) failed with an error, first: '
                         f"seed {errors[0]['seed']}: {errors[0]['error']}")
        return '\n'.join(lines)


def check_compatible(runtime: PolicyRuntime, env_args: dict) -> None:
    """Raise ConfigError when the environment cannot provide what the bundle observes."""
    env = build_env(env_args)
    try:
        obs = dataset_obs(reset_with_seed(env, 0), camera_names(env_args))
    finally:
        env.close()
    missing = [key.name for key in runtime.obs_spec.keys if key.name not in obs]
    if missing:
        raise ConfigError(f'the bundle observes {missing}, which {env_args["env_name"]} does '
                          f'not provide; it provides {sorted(obs)}')
    for key in runtime.obs_spec.keys:
        if tuple(np.shape(obs[key.name])) != tuple(key.shape):
            raise ConfigError(f'observation {key.name!r}: the bundle expects shape '
                              f'{tuple(key.shape)}, the environment gives '
                              f'{tuple(np.shape(obs[key.name]))}')


def evaluate_bundle(model_dir: str, options: EvalOptions) -> EvalReport:
    """Run options.episodes closed-loop episodes of the bundle in model_dir."""
    if options.episodes < 1:
        raise ConfigError(f'episodes must be >= 1, found {options.episodes}')
    runtime = PolicyRuntime.load(model_dir, options.device)
    env_args = runtime.model.env_args
    if not env_args.get('env_name'):
        raise ConfigError(f'{model_dir}: the bundle records no env_args (its dataset had '
                          'none), so the environment cannot be rebuilt')
    task = task_spec(env_args['env_name'])
    check_compatible(runtime, env_args)
    horizon = options.horizon or task.horizon
    if horizon < 1:
        raise ConfigError(f'horizon must be >= 1, found {horizon}')
    job = RolloutJob(env_args, AgentSpec('policy', model_dir=str(model_dir),
                                         obs_noise=options.obs_noise, device=options.device),
                     horizon, options.placement_scale,
                     video_seed=None if options.video_episode is None
                     else options.seed + options.video_episode)
    seeds = range(options.seed, options.seed + options.episodes)
    batch = run_rollouts(job, seeds, options.workers, options.progress,
                         f'eval {runtime.policy_name}')
    return EvalReport(str(model_dir), task.name, runtime.policy_name, options, horizon,
                      runtime.model.control_rate_hz or 20.0, batch.results, batch.lost)


def success_rate_in_process(runtime: PolicyRuntime, env_args: dict, seed: int, episodes: int,
                            horizon: Optional[int] = None) -> float:
    """Success rate of an in-memory runtime over seed .. seed + episodes - 1, one process."""
    task = task_spec(env_args['env_name'])
    check_compatible(runtime, env_args)
    env = build_env(env_args)
    try:
        agent = PolicyAgent(runtime)
        wins = sum(run_episode(env, agent, s, horizon or task.horizon,
                               camera_names(env_args)).success
                   for s in range(seed, seed + episodes))
    finally:
        env.close()
    return wins / episodes
