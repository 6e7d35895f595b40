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

"""MCNN: copy the nearest memory's action near it, a bounded network far from memories."""

from dataclasses import dataclass
from typing import Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.memory import DemoMemory
from darp_ros.core.networks import MLP
from darp_ros.core.neural_gas import neural_gas, snap_to_samples
from darp_ros.core.policies.base import Policy, PolicyOutput, register_policy, TrainingData
from darp_ros.core.training import fit_module, FitReport, TrainConfig
import torch
from torch import nn


@dataclass(frozen=True)
class MCNNConfig:
    """Memory-consistent network settings (distances and actions in z-scored units)."""

    memory_fraction: float = 0.05
    lam: float = 10.0
    bound: float = 1.0
    hidden: tuple = (256, 256, 256)
    warmup_epochs: int = 5          # the output clip leaks during these, so gradients flow
    leak: float = 0.01
    gas_iterations: int = 30

    def __post_init__(self):
        if not 0 < self.memory_fraction <= 1 or self.lam <= 0 or self.bound <= 0:
            raise ConfigError('mcnn needs memory_fraction in (0, 1], lam > 0 and bound > 0, got '
                              f'{self.memory_fraction}, {self.lam}, {self.bound}')


class MCNNNetwork(nn.Module):
    """a(s) = a_mem exp(-lam d) + bound (1 - exp(-lam d)) clip(f(s))."""

    def __init__(self, state_dim: int, action_dim: int, config: MCNNConfig):
        super().__init__()
        self.config = config
        self.f = MLP(state_dim, action_dim, config.hidden)
        # Filled by fit(); registered as buffers so they travel with the weights.
        self.register_buffer('mem_states', torch.zeros(0, state_dim))
        self.register_buffer('mem_actions', torch.zeros(0, action_dim))
        self.register_buffer('mem_episodes', torch.zeros(0, dtype=torch.long))
        self.register_buffer('mem_steps', torch.zeros(0, dtype=torch.long))
        self.leaky = False

    def set_memories(self, states, actions, episodes, steps) -> None:
        """Replace the memories (buffers are resized, so assign rather than copy)."""
        self.mem_states, self.mem_actions = states, actions
        self.mem_episodes, self.mem_steps = episodes, steps

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Memories have a data-dependent count: take the stored size before the strict copy.
        for name in ('mem_states', 'mem_actions', 'mem_episodes', 'mem_steps'):
            stored = state_dict.get(prefix + name)
            if stored is not None and stored.ndim == getattr(self, name).ndim:
                setattr(self, name, torch.empty_like(stored, device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def clip(self, x: torch.Tensor) -> torch.Tensor:
        """Clip to [-1, 1]; leaky outside it during warm-up."""
        clipped = x.clamp(-1.0, 1.0)
        return clipped + self.config.leak * (x - clipped) if self.leaky else clipped

    def nearest(self, states: torch.Tensor):
        """Distance to and index of the nearest memory."""
        distance, index = torch.cdist(states, self.mem_states).min(dim=1)
        return distance, index

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Return the action (B, A)."""
        distance, index = self.nearest(states)
        gate = torch.exp(-self.config.lam * distance)[:, None]
        return (self.mem_actions[index] * gate
                + self.config.bound * (1.0 - gate) * self.clip(self.f(states)))


@register_policy
class MCNNPolicy(Policy):
    """Memory-consistent neural network."""

    name = 'mcnn'
    config_class = MCNNConfig

    def __init__(self, config: MCNNConfig, state_dim: int, action_dim: int):
        super().__init__(config, state_dim, action_dim)
        self.network = MCNNNetwork(state_dim, action_dim, config)

    def modules(self):
        """Return the network with its memories."""
        return {'network': self.network}

    def fit(self, data: TrainingData, train: TrainConfig, device: str = 'cpu') -> FitReport:
        """Pick memories by neural gas snapped to real samples, then train f by MSE."""
        self.to(device)
        rows = data.train.to(device)
        units = max(1, round(self.config.memory_fraction * len(rows)))
        protos = neural_gas(rows.states, units, self.config.gas_iterations, seed=train.seed)
        chosen = snap_to_samples(protos, rows.states)
        self.network.set_memories(rows.states[chosen].clone(), rows.actions[chosen].clone(),
                                  torch.as_tensor(rows.episodes[chosen.cpu().numpy()],
                                                  device=device),
                                  torch.as_tensor(rows.steps[chosen.cpu().numpy()],
                                                  device=device))
        val = data.val.to(device) if data.val is not None else None

        def warmup(epoch):
            self.network.leaky = epoch < self.config.warmup_epochs

        def batch_loss(ids):
            return torch.mean((self.network(rows.states[ids]) - rows.actions[ids]) ** 2)

        def val_loss():
            return torch.mean((self.network(val.states) - val.actions) ** 2).item()

        def as_deployed(score):
            if score is None:
                return None

            def hard_gate_score():
                # Scored as deployed: the gate hard, not leaky as during warm-up.
                leaky, self.network.leaky = self.network.leaky, False
                try:
                    return score()
                finally:
                    self.network.leaky = leaky
            return hard_gate_score

        report = fit_module(self.network, len(rows), batch_loss,
                            val_loss if val is not None else None, train, device, 'mcnn',
                            on_epoch=warmup, closed_loop=as_deployed(data.closed_loop),
                            confirm=as_deployed(data.confirm))
        self.network.leaky = False
        report.notes['memories'] = int(len(chosen))
        return report

    @torch.no_grad()
    def act(self, states: torch.Tensor, memory: Optional[DemoMemory] = None) -> PolicyOutput:
        """Gate between the nearest memory and the bounded network."""
        distance, index = self.network.nearest(states)
        return PolicyOutput(self.network(states),
                            self.network.mem_episodes[index, None].cpu().numpy(),
                            self.network.mem_steps[index, None].cpu().numpy(),
                            distance[:, None].cpu().numpy())
