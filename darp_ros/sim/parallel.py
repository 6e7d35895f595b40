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
Run many episodes, in this process or across worker processes.

Each worker builds its environment and agent once, then runs one episode per task it is
given. Results come back as they finish, so a worker that dies takes only its own
unfinished episodes with it; they are reported as lost, never silently dropped.
"""

from concurrent.futures import as_completed, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
import logging
import multiprocessing
from typing import Callable, Dict, List, Optional, Sequence

from darp_ros.sim.agents import ExpertAgent, PolicyAgent
from darp_ros.sim.environment import build_env, camera_names
from darp_ros.sim.rollout import EpisodeResult, run_episode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentSpec:
    """Which agent to build: 'expert' for task, or 'policy' from a bundle directory."""

    kind: str
    task: str = ''
    model_dir: str = ''
    noise: float = 0.0          # expert action noise
    style_diversity: float = 1.0    # scale of the expert's style ranges (1: full, 0: one style)
    obs_noise: float = 0.0      # sensor noise added to a policy's low-dim observations
    device: str = 'cpu'

    def build(self):
        """Return the agent this spec describes."""
        if self.kind == 'expert':
            return ExpertAgent(self.task, self.noise, self.style_diversity)
        from darp_ros.core.runtime import PolicyRuntime
        return PolicyAgent(PolicyRuntime.load(self.model_dir, self.device), self.obs_noise)


@dataclass(frozen=True)
class RolloutJob:
    """Everything a worker needs: the environment, the agent, and what to keep."""

    env_args: dict
    agent: AgentSpec
    horizon: int
    placement_scale: float = 1.0
    record: bool = False
    video_seed: Optional[int] = None


@dataclass
class RolloutBatch:
    """Finished episodes in seed order, and the seeds no result came back for."""

    results: List[EpisodeResult] = field(default_factory=list)
    lost: List[int] = field(default_factory=list)


class Worker:
    """One environment and one agent, reused across episodes."""

    def __init__(self, job: RolloutJob):
        self.job = job
        self.env = build_env(job.env_args, offscreen=job.video_seed is not None,
                             placement_scale=job.placement_scale)
        self.agent = job.agent.build()
        self.cameras = camera_names(job.env_args)

    def run(self, seed: int) -> EpisodeResult:
        """Run one episode; an error inside it fails that episode only, with the reason."""
        try:
            return run_episode(self.env, self.agent, seed, self.job.horizon, self.cameras,
                               record=self.job.record, video=seed == self.job.video_seed)
        except Exception as exc:   # noqa: B902 - the simulator or policy failed this episode
            log.warning('episode seed %d failed: %s: %s', seed, type(exc).__name__, exc)
            return EpisodeResult(seed, False, 0, 0.0, error=f'{type(exc).__name__}: {exc}')


_worker: Dict[str, Worker] = {}


def _init_process(job: RolloutJob) -> None:
    import torch
    # Workers share the machine's cores: one thread each avoids oversubscription.
    torch.set_num_threads(1)
    _worker['self'] = Worker(job)


def _run_in_process(seed: int) -> EpisodeResult:
    return _worker['self'].run(seed)


def run_rollouts(job: RolloutJob, seeds: Sequence[int], workers: int = 1,
                 progress: bool = False, description: str = 'episodes',
                 on_result: Optional[Callable[[EpisodeResult], None]] = None) -> RolloutBatch:
    """
    Run one episode per seed with workers processes (1: in this process).

    on_result is called with each result as it arrives (in completion order).
    """
    seeds = list(seeds)
    batch = RolloutBatch()
    bar = _progress_bar(len(seeds), progress, description)
    if workers <= 1 or len(seeds) <= 1:
        worker = Worker(job)
        for seed in seeds:
            batch.results.append(worker.run(seed))
            _tick(bar, batch, on_result)
    else:
        context = multiprocessing.get_context('spawn')
        with ProcessPoolExecutor(min(workers, len(seeds)), mp_context=context,
                                 initializer=_init_process, initargs=(job,)) as pool:
            futures = {pool.submit(_run_in_process, seed): seed for seed in seeds}
            for future in as_completed(futures):
                try:
                    batch.results.append(future.result())
                except BrokenProcessPool:
                    batch.lost.append(futures[future])
                    continue
                _tick(bar, batch, on_result)
    if bar is not None:
        bar.close()
    if batch.lost:
        log.error('a worker process died; %d episode(s) lost (seeds %s); the other %d are '
                  'kept', len(batch.lost), sorted(batch.lost), len(batch.results))
    batch.results.sort(key=lambda r: r.seed)
    batch.lost.sort()
    return batch


def _progress_bar(total: int, enabled: bool, description: str):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=description, unit='ep', dynamic_ncols=True)


def _tick(bar, batch: RolloutBatch, on_result) -> None:
    if on_result is not None:
        on_result(batch.results[-1])
    if bar is not None:
        done = sum(r.success for r in batch.results)
        bar.set_postfix(success=f'{done}/{len(batch.results)}')
        bar.update(1)
