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

"""Closed-loop scores on tuning seeds: what checkpoint selection and `darp tune` maximise."""

import dataclasses
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.model import TrainedModel
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.training import TrainConfig
from darp_ros.sim.seeds import check_tuning_seeds, TUNING_SEED


def closed_loop_scorer(env_args: Mapping, seed: int = TUNING_SEED, episodes: int = 10,
                       horizon: Optional[int] = None) -> Callable[[TrainedModel], float]:
    """
    Return score(model): mean return (gymnasium) or success rate (robosuite) on the seeds.

    The environment family comes from env_args, as for `darp eval`.
    """
    check_tuning_seeds(seed, episodes)
    if not (env_args or {}).get('env_name'):
        raise ConfigError('closed-loop selection needs env_args naming the environment; the '
                          'dataset records none')
    from darp_ros.sim.gym_eval import DEFAULT_HORIZON, evaluate_runtime, is_gymnasium
    if is_gymnasium(env_args):
        def score_return(model: TrainedModel) -> float:
            return evaluate_runtime(PolicyRuntime(model), env_args, seed, episodes,
                                    horizon or DEFAULT_HORIZON).mean
        return score_return
    from darp_ros.sim.evaluate import success_rate_in_process
    return lambda model: success_rate_in_process(PolicyRuntime(model), env_args, seed,
                                                 episodes, horizon)


@dataclass(frozen=True)
class Selection:
    """Closed-loop checkpoint selection on the tuning seeds, the same for every policy."""

    scored: int = 20            # checkpoints scored per run (every epochs // scored epochs)
    episodes: int = 10          # tuning episodes per score, from TUNING_SEED
    finalists: int = 0          # best checkpoints scored again on fresh tuning episodes
    confirm_episodes: int = 30

    def __post_init__(self):
        if min(self.scored, self.episodes, self.confirm_episodes) < 1 or self.finalists < 0:
            raise ConfigError(f'selection out of range: {self}')

    def train_config(self, train: TrainConfig) -> TrainConfig:
        """Return train keeping the best-scoring checkpoint of about `scored` scored ones."""
        return dataclasses.replace(train, keep='closed_loop',
                                   select_every=max(1, train.epochs // self.scored),
                                   select_finalists=self.finalists)

    def record(self, train: TrainConfig) -> dict:
        """Return what a bundle records of the selection, as `darp train` writes it."""
        record = {'seed': TUNING_SEED, 'episodes': self.episodes, 'every': train.select_every}
        if self.finalists:
            record.update(finalists=self.finalists, confirm_seed=TUNING_SEED + self.episodes,
                          confirm_episodes=self.confirm_episodes)
        return record

    def scorers(self, env_args: dict):
        """Return (score, confirm or None): the tuning-seed scorers training calls."""
        score = closed_loop_scorer(env_args, TUNING_SEED, self.episodes)
        confirm = None
        if self.finalists:
            confirm = closed_loop_scorer(env_args, TUNING_SEED + self.episodes,
                                         self.confirm_episodes)
        return score, confirm
