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

"""1-NN replay: the action of the single nearest demonstration state."""

from dataclasses import dataclass
from typing import Optional

from darp_ros.core.memory import DemoMemory
from darp_ros.core.policies.base import (neighbor_output, Policy, PolicyOutput, register_policy,
                                         TrainingData)
from darp_ros.core.training import FitReport, TrainConfig
import torch


@dataclass(frozen=True)
class NN1Config:
    """1-NN has nothing to set."""


@register_policy
class NN1Policy(Policy):
    """Retrieve and replay."""

    name = 'nn1'
    config_class = NN1Config

    def fit(self, data: TrainingData, train: TrainConfig, device: str = 'cpu') -> FitReport:
        """Nothing to learn; the held-out action error is reported for comparison."""
        report = FitReport()
        if data.val is not None:
            memory, val = data.train.to(device), data.val.to(device)
            predicted = self.act(val.states, memory).actions
            report.best_val_loss = torch.mean((predicted - val.actions) ** 2).item()
        return report

    @torch.no_grad()
    def act(self, states: torch.Tensor, memory: Optional[DemoMemory]) -> PolicyOutput:
        """Copy the nearest row's action."""
        nb = memory.search(states, 1)
        return neighbor_output(memory.actions[nb.ids[:, 0].to(memory.actions.device)],
                               memory, nb)
