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

"""Demonstrations from the scripted experts: successful episodes only, in seed order."""

from dataclasses import dataclass, field
import logging
import math
from typing import List, Sequence

from darp_ros.core.errors import ConfigError
from darp_ros.data.demos import Episode
from darp_ros.sim.agents import check_style_diversity
from darp_ros.sim.environment import make_env_args
from darp_ros.sim.parallel import AgentSpec, RolloutJob, run_rollouts
from darp_ros.sim.tasks import task_spec

log = logging.getLogger(__name__)
MAX_ATTEMPTS_PER_DEMO = 3   # an expert below ~33% success is broken, not unlucky


@dataclass
class CollectResult:
    """Kept demonstrations, the env_args to write with them, and the expert's record."""

    episodes: List[Episode]
    env_args: dict
    attempts: int = 0
    successes: int = 0      # may exceed len(episodes): a last batch can overshoot
    failed_seeds: List[int] = field(default_factory=list)
    lost_seeds: List[int] = field(default_factory=list)

    @property
    def success_rate(self) -> float:
        """Return the expert's success rate over the attempts that ran."""
        ran = self.attempts - len(self.lost_seeds)
        return self.successes / ran if ran else 0.0


def collect_demos(task: str, count: int, seed: int = 0, noise: float = 0.0,
                  cameras: Sequence[str] = (), image_size: int = 84, workers: int = 1,
                  progress: bool = False, style_diversity: float = 1.0) -> CollectResult:
    """
    Run the task's expert from seeds seed, seed+1, ... until count episodes succeeded.

    Failed attempts are dropped (and counted), so the dataset holds expert behaviour
    only; attempts stop at MAX_ATTEMPTS_PER_DEMO x count, and the caller sees how many
    were kept. style_diversity scales the ranges of the demonstrators' styles (1: the
    full ranges, 0: one fixed demonstrator).
    """
    if count < 1:
        raise ConfigError(f'episode count must be >= 1, found {count}')
    check_style_diversity(style_diversity)
    spec = task_spec(task)
    env_args = make_env_args(task, cameras, image_size)
    agent = AgentSpec('expert', task=task, noise=noise, style_diversity=style_diversity)
    job = RolloutJob(env_args, agent, spec.horizon, record=True)
    result = CollectResult([], env_args)
    next_seed, budget = seed, MAX_ATTEMPTS_PER_DEMO * count
    while len(result.episodes) < count and result.attempts < budget:
        # Ask for a few more than needed (expected failures), at least one per worker.
        want = count - len(result.episodes)
        size = min(budget - result.attempts, max(math.ceil(want * 1.1), want + 2, workers))
        seeds = range(next_seed, next_seed + size)
        batch = run_rollouts(job, seeds, workers, progress, f'{task} demos')
        next_seed += size
        result.attempts += size
        result.lost_seeds += batch.lost
        for episode in batch.results:
            if not episode.success:
                result.failed_seeds.append(episode.seed)
                continue
            result.successes += 1
            if len(result.episodes) < count:
                result.episodes.append(episode.episode)
    log.info('%s expert: %d/%d attempts succeeded (%.0f%%)', task, result.successes,
             result.attempts - len(result.lost_seeds), 100 * result.success_rate)
    return result
