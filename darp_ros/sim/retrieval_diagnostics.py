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
Where a retrieval policy's neighbours come from, at training time and in closed loop.

DARP learns a correction from the offset between a neighbour and the query. If the offsets
it trained on are much smaller than those a rollout meets, or its training neighbours were
mostly adjacent frames of the sample's own episode, the correction it learnt does not
transfer. These figures say which, for a bundle, on seeds the caller chooses (tuning seeds).

They also say which feature dimensions the distance to the nearest demonstration state is
made of: a dimension the demonstrations barely vary (a resting cube's tilt) is z-scored by a
tiny spread, so a small deviation in closed loop can outweigh every dimension that matters.
And per rollout: how it ended, how often its nearest demonstration changed, and on robosuite
tasks with staged rewards how far it got (grasped, lifted, carried), so that the figures can
be set against where episodes fail.
"""

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime, StepResult
from darp_ros.sim.agents import PolicyAgent
from darp_ros.sim.environment import build_env, camera_names
from darp_ros.sim.evaluate import check_compatible
from darp_ros.sim.feature_names import aggregate_parts, feature_names
from darp_ros.sim.gym_eval import (check_gym_compatible, DEFAULT_HORIZON, is_gymnasium,
                                   make_gym_env)
from darp_ros.sim.rollout import run_episode
from darp_ros.sim.tasks import task_spec
import numpy as np
import torch

# A neighbour within this many steps of the sample in the sample's own episode is
# "adjacent": nearly a copy of the sample, a case no rollout query meets.
ADJACENT_STEPS = 2
# robosuite's staged rewards (`env.staged_rewards()`), by task family: each stage's maximum
# over an episode says how far a failed episode got. Lift has none.
STAGES = {'Stack': ('reach and grasp', 'lift and align', 'stack'),
          'PickPlace': ('reach', 'grasp', 'lift', 'hover'),
          'NutAssembly': ('reach', 'grasp', 'lift', 'hover')}


def stage_names(env_name: str) -> Optional[Tuple[str, ...]]:
    """Return the names of a robosuite task's staged rewards, or None if it has none."""
    return next((names for family, names in STAGES.items() if env_name.startswith(family)),
                None)


@dataclass
class NeighbourStats:
    """Distances in z-scored state space and where the kept neighbours come from."""

    queries: int
    nearest_median: float         # distance to the nearest demonstration state
    nearest_p90: float
    # None for a policy that acts without neighbours (BC):
    neighbours_per_query: Optional[float] = None
    offset_median: Optional[float] = None   # ||s_j - s_q|| over every kept neighbour
    offset_p90: Optional[float] = None
    episodes_per_query: Optional[float] = None  # distinct demonstrations among them
    own_episode_share: Optional[float] = None   # training only: from the sample's episode
    adjacent_share: Optional[float] = None      # training only: within ADJACENT_STEPS
    # Closed loop only: share of steps whose nearest demonstration state lies in another
    # demonstration than the previous step's. A replayed demonstration stays coherent only
    # while this stays low; each switch splices two demonstrators' styles.
    nearest_switch_share: Optional[float] = None
    # Closed loop only: per rollout, its seed, outcome (success or return), steps and switch
    # share, so a figure can be set against whether the episode went well.
    rollouts: Optional[List[dict]] = None
    # Closed loop, robosuite tasks with staged rewards: their names, and the mean over rollouts
    # (all, and the failed ones) of each stage's maximum within the rollout.
    stages: Optional[Dict[str, list]] = None
    # Per feature dimension: names, share of the summed squared nearest distance, |z| p99.
    sources: Optional[Dict[str, list]] = None

    def to_dict(self) -> dict:
        """Return the JSON-friendly figures."""
        return dict(self.__dict__)


def _stats(nearest: List[float], offsets: List[np.ndarray], episodes: List[np.ndarray],
           **extra) -> NeighbourStats:
    stats = NeighbourStats(queries=len(nearest), nearest_median=float(np.median(nearest)),
                           nearest_p90=float(np.percentile(nearest, 90)), **extra)
    if offsets:
        flat = np.concatenate(offsets)
        stats.neighbours_per_query = float(np.mean([len(o) for o in offsets]))
        stats.offset_median = float(np.median(flat))
        stats.offset_p90 = float(np.percentile(flat, 90))
        stats.episodes_per_query = float(np.mean([len(np.unique(e)) for e in episodes]))
    return stats


def distance_sources(queries: np.ndarray, nearest: np.ndarray, names: List[str]) -> dict:
    """
    Split the squared distance from each z-scored query to its nearest row by dimension.

    share[d] is dimension d's part of the squared distances summed over all queries;
    abs_z_p99[d] is the 99th percentile of the queries' |z| there (1 to 3 inside the data).
    """
    queries, nearest = np.asarray(queries, np.float64), np.asarray(nearest, np.float64)
    if queries.shape != nearest.shape or queries.shape[1] != len(names):
        raise ConfigError(f'{len(names)} dimension names for queries {queries.shape} and '
                          f'nearest rows {nearest.shape}')
    squared = ((queries - nearest) ** 2).sum(axis=0)
    total = squared.sum()
    share = squared / total if total > 0 else np.zeros_like(squared)
    return {'names': list(names), 'share': share.tolist(),
            'abs_z_p99': np.percentile(np.abs(queries), 99, axis=0).tolist()}


def sources_by_key(sources: Optional[dict]) -> Dict[str, Dict[str, float]]:
    """Sum the shares of each key's dimensions (`key[i]`); the largest |z| p99 among them."""
    keys: Dict[str, Dict[str, float]] = {}
    if not sources:
        return keys
    for name, share, z in zip(sources['names'], sources['share'], sources['abs_z_p99']):
        entry = keys.setdefault(name.split('[')[0], {'share': 0.0, 'abs_z_p99': 0.0})
        entry['share'] += share
        entry['abs_z_p99'] = max(entry['abs_z_p99'], z)
    return keys


def training_neighbours(runtime: PolicyRuntime,
                        names: Optional[List[str]] = None) -> NeighbourStats:
    """
    Describe the demonstrations from inside.

    Each row's nearest other row and, for DARP, the kept neighbours it trained with (never
    the row itself). names label the feature dimensions (default `key[i]`; a rollout's
    figures carry finer ones).
    """
    policy, memory = runtime.model.policy, runtime.model.memory
    rows = np.arange(len(memory))
    with torch.no_grad():
        found = memory.search(memory.states, 1, exclude_rows=rows)
        nearest = list(found.distances[:, 0].cpu().numpy())
        states = memory.states.cpu()
        sources = distance_sources(states.numpy(), states[found.ids[:, 0].cpu()].numpy(),
                                   names or feature_names(runtime.obs_spec))
        if not hasattr(policy, 'training_neighbors'):
            return _stats(nearest, [], [], sources=sources)
        ids = policy.training_neighbors(memory).cpu()
    offsets = torch.linalg.vector_norm(states[ids] - states[:, None, :], dim=-1).numpy()
    ids = ids.numpy()
    episodes = memory.episodes[ids]
    own = episodes == memory.episodes[:, None]
    adjacent = own & (np.abs(memory.steps[ids] - memory.steps[:, None]) <= ADJACENT_STEPS)
    return _stats(nearest, list(offsets), list(episodes), sources=sources,
                  own_episode_share=float(own.mean()), adjacent_share=float(adjacent.mean()))


def switch_share(sequences: List[List[int]]) -> Optional[float]:
    """Share of consecutive pairs, within each sequence, whose two values differ."""
    pairs = sum(max(0, len(s) - 1) for s in sequences)
    if pairs == 0:
        return None
    return sum(int(np.count_nonzero(np.diff(s))) for s in sequences) / pairs


class _Recorder:
    """Collects every step's kept neighbours, its z-scored query and that query's nearest row."""

    def __init__(self, runtime: PolicyRuntime):
        self.runtime = runtime
        self.offsets, self.nearest, self.episodes = [], [], []
        self.queries, self.nearest_rows = [], []
        self.nearest_episodes: List[List[int]] = []   # per rollout, each step's
        self.rollouts: List[dict] = []
        self.stage_values: List[np.ndarray] = []   # this rollout's staged rewards, per step
        self.parts: Optional[List[str]] = None   # names of the 'object' aggregate's dimensions

    def start_rollout(self) -> None:
        """Begin a new rollout: its first step is no switch from the last one's."""
        self.nearest_episodes.append([])
        self.stage_values = []

    def record_stages(self, env) -> None:
        """Keep the staged rewards of env's current state, where the task has them."""
        if hasattr(env, 'staged_rewards'):
            self.stage_values.append(np.asarray(env.staged_rewards(), dtype=np.float64))

    def finish_rollout(self, seed: int, steps: int, outcome: dict) -> None:
        """Record how the rollout just run ended: outcome is {'success': bool} or {'return': x}."""
        rollout = {'seed': int(seed), **outcome, 'steps': int(steps),
                   'nearest_switch_share': switch_share(self.nearest_episodes[-1:])}
        if self.stage_values:
            rollout['stages'] = np.max(self.stage_values, axis=0).tolist()
        self.rollouts.append(rollout)

    def _stages(self) -> Optional[Dict[str, list]]:
        names = stage_names(self.runtime.model.env_args.get('env_name', ''))
        every = [r['stages'] for r in self.rollouts if 'stages' in r]
        if names is None or not every:
            return None
        failed = [r['stages'] for r in self.rollouts if 'stages' in r and not r.get('success')]
        return {'names': list(names), 'mean_max': np.mean(every, axis=0).tolist(),
                'mean_max_failed': np.mean(failed, axis=0).tolist() if failed else None}

    def step(self, obs: Mapping[str, np.ndarray]) -> StepResult:
        """Act on obs through the runtime and record what the step met."""
        if self.parts is None:   # asked again each step: at reset some parts are all zeros
            self.parts = aggregate_parts(obs, exclude=self.runtime.obs_spec.names)
        step = self.runtime.step(dict(obs))
        memory = self.runtime.model.memory
        with torch.no_grad():
            query = torch.as_tensor(step.query[None], device=memory.states.device)
            row = memory.search(query, 1).ids[0, 0]
        self.queries.append(step.query)
        self.nearest_rows.append(memory.states[row].cpu().numpy())
        if not self.nearest_episodes:
            self.start_rollout()
        self.nearest_episodes[-1].append(int(memory.episodes[int(row)]))
        self.nearest.append(step.novelty)
        if step.neighbors:
            self.offsets.append(np.array([n.distance for n in step.neighbors]))
            self.episodes.append(np.array([n.episode for n in step.neighbors]))
        return step

    def stats(self) -> NeighbourStats:
        """Return the figures of every recorded step."""
        names = feature_names(self.runtime.obs_spec, parts=self.parts)
        return _stats(self.nearest, self.offsets, self.episodes, sources=distance_sources(
            np.stack(self.queries), np.stack(self.nearest_rows), names),
            nearest_switch_share=switch_share(self.nearest_episodes), rollouts=self.rollouts,
            stages=self._stages())


class _RecordingAgent(PolicyAgent):
    def __init__(self, runtime: PolicyRuntime, recorder: _Recorder):
        super().__init__(runtime)
        self.recorder = recorder

    def reset(self, env, seed: int) -> None:
        super().reset(env, seed)
        self.recorder.start_rollout()

    def act(self, env, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        self.recorder.record_stages(env)
        return self.recorder.step(obs).action


def _robosuite_rollouts(runtime, env_args, seeds, horizon, recorder,
                        placement_scale: float = 1.0) -> None:
    check_compatible(runtime, env_args)
    env = build_env(env_args, placement_scale=placement_scale)
    try:
        agent = _RecordingAgent(runtime, recorder)
        for seed in seeds:
            result = run_episode(env, agent, seed,
                                 horizon or task_spec(env_args['env_name']).horizon,
                                 camera_names(env_args))
            # The state the last action reached is never acted on, but it is where a
            # successful rollout completes its last stage: count it too.
            recorder.record_stages(env)
            recorder.finish_rollout(seed, result.steps, {'success': bool(result.success)})
    finally:
        env.close()


def _gym_rollouts(runtime, env_args, seeds, horizon, recorder) -> None:
    env = make_gym_env(env_args)
    try:
        key = check_gym_compatible(runtime, env)
        low, high = env.action_space.low, env.action_space.high
        for seed in seeds:
            obs, _ = env.reset(seed=int(seed))
            runtime.reset()
            recorder.start_rollout()
            total, steps = 0.0, 0
            for steps in range(1, (horizon or DEFAULT_HORIZON) + 1):
                step = recorder.step({key: obs.astype(np.float32)})
                obs, reward, terminated, truncated, _ = env.step(np.clip(step.action, low, high))
                total += float(reward)
                if terminated or truncated:
                    break
            recorder.finish_rollout(seed, steps, {'return': total})
    finally:
        env.close()


def rollout_neighbours(runtime: PolicyRuntime, seed: int, episodes: int,
                       horizon: Optional[int] = None,
                       placement_scale: float = 1.0) -> NeighbourStats:
    """
    Describe the neighbours met in closed loop, episodes seed .. seed + episodes - 1.

    placement_scale > 1 widens robosuite's initial object placement, as the benchmark's
    distribution-shift rows do, to see what the policy meets where it fails more often.
    """
    env_args = runtime.model.env_args
    if not env_args.get('env_name'):
        raise ConfigError('the bundle records no env_args: nothing to roll out in')
    if episodes < 1:
        raise ConfigError(f'episodes must be >= 1, found {episodes}')
    if not placement_scale > 0:
        raise ConfigError(f'placement scale must be positive, found {placement_scale:g}')
    seeds, recorder = range(seed, seed + episodes), _Recorder(runtime)
    if is_gymnasium(env_args):
        if placement_scale != 1.0:
            raise ConfigError('placement scale widens robosuite object placement; the '
                              f"gymnasium environment {env_args['env_name']} has none "
                              f'(found {placement_scale:g}, use 1)')
        _gym_rollouts(runtime, env_args, seeds, horizon, recorder)
    else:
        _robosuite_rollouts(runtime, env_args, seeds, horizon, recorder, placement_scale)
    return recorder.stats()
