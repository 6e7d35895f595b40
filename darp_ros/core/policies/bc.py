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

"""Behavior cloning: the same MLP maps the query state straight to an action."""

from dataclasses import dataclass
from typing import Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.memory import DemoMemory
from darp_ros.core.networks import MLP
from darp_ros.core.policies.base import (bounded, Policy, PolicyOutput, register_policy,
                                         TRAINING_LEAK, TrainingData)
from darp_ros.core.training import fit_module, FitReport, jitter, TrainConfig
import torch


@dataclass(frozen=True)
class BCConfig:
    """BC settings: the network width and an optional bound on its output."""

    hidden: tuple = (256, 256, 256)
    output_bound: float = 0.0           # z-units of action; 0 = unbounded (base.bounded)

    def __post_init__(self):
        if self.output_bound < 0:
            raise ConfigError(f'bc output_bound must be >= 0, got {self.output_bound}')


@register_policy
class BCPolicy(Policy):
    """The reference every result is compared to."""

    name = 'bc'
    config_class = BCConfig

    def __init__(self, config: BCConfig, state_dim: int, action_dim: int):
        super().__init__(config, state_dim, action_dim)
        self.network = MLP(state_dim, action_dim, config.hidden)

    def modules(self):
        """Return the one network."""
        return {'network': self.network}

    def fit(self, data: TrainingData, train: TrainConfig, device: str = 'cpu') -> FitReport:
        """Minimise MSE on z-scored actions."""
        self.to(device)
        rows = data.train.to(device)
        val = data.val.to(device) if data.val is not None else None

        bound = self.config.output_bound

        def batch_loss(ids):
            states = jitter(rows.states[ids], train)
            out = bounded(self.network(states), bound, TRAINING_LEAK)
            return torch.mean((out - rows.actions[ids]) ** 2)

        def val_loss():
            out = bounded(self.network(val.states), bound)
            return torch.mean((out - val.actions) ** 2).item()

        return fit_module(self.network, len(rows), batch_loss,
                          val_loss if val is not None else None, train, device, 'bc',
                          closed_loop=data.closed_loop, confirm=data.confirm)

    @torch.no_grad()
    def act(self, states: torch.Tensor, memory: Optional[DemoMemory] = None) -> PolicyOutput:
        """One forward pass."""
        return PolicyOutput(bounded(self.network(states), self.config.output_bound))
