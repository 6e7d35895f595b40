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

"""VINN: a distance-weighted average of the k nearest demonstration actions."""

import dataclasses
from dataclasses import dataclass
import logging
from typing import Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.memory import DemoMemory
from darp_ros.core.policies.base import (neighbor_output, Policy, PolicyOutput, register_policy,
                                         TrainingData)
from darp_ros.core.training import FitReport, TrainConfig
import torch

logger = logging.getLogger(__name__)
# Used when k is left to selection but there is no held-out episode to select on.
FALLBACK_K = 16


@dataclass(frozen=True)
class VINNConfig:
    """k = 0 selects k on held-out action error among k_candidates."""

    k: int = 0
    temperature: float = 1.0
    k_candidates: tuple = (1, 2, 4, 8, 16, 32, 64)

    def __post_init__(self):
        if self.k < 0 or self.temperature <= 0 or not self.k_candidates:
            raise ConfigError(f'vinn needs k >= 0, temperature > 0 and k candidates, got k='
                              f'{self.k}, temperature={self.temperature}, '
                              f'candidates={self.k_candidates}')


def weighted_actions(memory: DemoMemory, states: torch.Tensor, k: int, temperature: float):
    """softmax(-d / T)-weighted mean of the k nearest actions, and the neighbors used."""
    nb = memory.search(states, k)
    weights = torch.softmax(-nb.distances.float() / temperature, dim=1)
    actions = memory.actions[nb.ids.to(memory.actions.device)]
    return (weights.to(actions.device)[..., None] * actions).sum(dim=1), nb


@register_policy
class VINNPolicy(Policy):
    """No training beyond the index; k chosen on held-out episodes."""

    name = 'vinn'
    config_class = VINNConfig

    def fit(self, data: TrainingData, train: TrainConfig, device: str = 'cpu') -> FitReport:
        """Choose k (when k = 0) by action MSE of held-out episodes against training ones."""
        report = FitReport()
        if self.config.k:
            return report
        if data.val is None:
            logger.warning('vinn: no held-out episode to choose k on; using k=%d', FALLBACK_K)
            self.config = dataclasses.replace(self.config, k=FALLBACK_K)
            return report
        memory, val = data.train.to(device), data.val.to(device)
        errors = {}
        for k in sorted(set(self.config.k_candidates)):
            if k > len(memory):
                continue
            predicted, _ = weighted_actions(memory, val.states, k, self.config.temperature)
            errors[k] = torch.mean((predicted - val.actions) ** 2).item()
        best = min(errors, key=errors.get)
        self.config = dataclasses.replace(self.config, k=best)
        report.best_val_loss = errors[best]
        report.notes['val_mse_by_k'] = {str(k): v for k, v in errors.items()}
        report.notes['k'] = best
        return report

    @torch.no_grad()
    def act(self, states: torch.Tensor, memory: Optional[DemoMemory]) -> PolicyOutput:
        """Weighted neighbor actions."""
        if not self.config.k:
            raise ConfigError('vinn has k = 0: call fit() to choose k before acting')
        actions, nb = weighted_actions(memory, states, self.config.k, self.config.temperature)
        return neighbor_output(actions, memory, nb)
