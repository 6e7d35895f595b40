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

"""The small interface every policy implements, and the registry that finds them by name."""

import abc
from dataclasses import dataclass
from typing import Callable, ClassVar, Dict, Optional, Type

from darp_ros.core.config import config_from_dict, config_to_dict
from darp_ros.core.errors import BundleError, ConfigError
from darp_ros.core.memory import DemoMemory, DemoRows, Neighbors
from darp_ros.core.training import FitReport, TrainConfig
import numpy as np
import torch

_REGISTRY: Dict[str, Type['Policy']] = {}


@dataclass
class TrainingData:
    """What a policy fits on: indexed training episodes, and held-out episodes if any."""

    train: DemoMemory
    val: Optional[DemoRows] = None
    # Scores the policy's current weights in the simulator (higher is better), for
    # TrainConfig.keep == 'closed_loop'; None when no simulator was given.
    closed_loop: Optional[Callable[[], float]] = None
    # Scores the same way on fresh tuning seeds: the finalists' second score
    # (TrainConfig.select_finalists); None when not asked for.
    confirm: Optional[Callable[[], float]] = None


@dataclass
class PolicyOutput:
    """z-scored actions (B, A) and the demonstration rows behind them, per query."""

    actions: torch.Tensor
    episodes: Optional[np.ndarray] = None    # (B, m) episode index of each neighbor used
    steps: Optional[np.ndarray] = None       # (B, m) step inside that episode
    distances: Optional[np.ndarray] = None   # (B, m) Euclidean distance in z-scored space
    # (B,) distance to the nearest demonstration row, when the policy retrieved it anyway.
    novelty: Optional[np.ndarray] = None


# In training the bound leaks this fraction of the excess: a hard clamp gives no gradient to
# an output past it, and one pushed there early would stay there (MCNN's warm-up, likewise).
TRAINING_LEAK = 0.01


def bounded(actions: torch.Tensor, bound: float, leak: float = 0.0) -> torch.Tensor:
    """
    Clamp z-scored actions to [-bound, bound], letting leak of the excess through; 0: as is.

    MCNN's network output carries this bound. BC and DARP offer it as output_bound, in
    their training loss and at inference: on Stack/50, bound 1 lifted DARP from 79 to 88%
    (81 to 84% on fresh tuning episodes) and BC by a point or two; clamped at inference
    only, it changed little (RESULTS, equal-budget section).
    """
    if bound <= 0:
        return actions
    held = actions.clamp(-bound, bound)
    return held + leak * (actions - held) if leak else held


def neighbor_output(actions: torch.Tensor, memory: DemoRows, nb: Neighbors) -> PolicyOutput:
    """Build a PolicyOutput whose neighbor record comes from memory rows."""
    ids = nb.ids.cpu().numpy()
    distances = nb.distances.detach().cpu().numpy()
    nearest = nb.distances[:, 0] if nb.nearest is None else nb.nearest
    novelty = nearest.detach().cpu().numpy()
    return PolicyOutput(actions, memory.episodes[ids], memory.steps[ids], distances, novelty)


class Policy(abc.ABC):
    """
    Maps z-scored states (B, D) to z-scored actions (B, A), possibly via the memory.

    Subclasses set name and config_class, build their modules in __init__, and keep every
    learned quantity in tensors() so a bundle can store it without pickle.
    """

    name: ClassVar[str] = ''
    config_class: ClassVar[type] = type(None)

    def __init__(self, config, state_dim: int, action_dim: int):
        if not isinstance(config, self.config_class):
            raise ConfigError(f'{self.name}: expected a {self.config_class.__name__}, '
                              f'got {type(config).__name__}')
        self.config = config
        self.state_dim = int(state_dim)
        self.action_dim = int(action_dim)
        self.device = 'cpu'

    @abc.abstractmethod
    def fit(self, data: TrainingData, train: TrainConfig, device: str = 'cpu') -> FitReport:
        """Learn from the training rows; select on the held-out rows."""

    @abc.abstractmethod
    def act(self, states: torch.Tensor, memory: Optional[DemoMemory]) -> PolicyOutput:
        """Predict one action per query row."""

    def reset(self) -> None:
        """Forget per-rollout state (query history); stateless policies do nothing."""

    def modules(self) -> Dict[str, torch.nn.Module]:
        """Named torch modules whose weights make up this policy."""
        return {}

    def tensors(self) -> Dict[str, torch.Tensor]:
        """Every learned tensor, flat-named, on the CPU, for a safetensors file."""
        out = {}
        for prefix, module in self.modules().items():
            for key, value in module.state_dict().items():
                out[f'{prefix}.{key}'] = value.detach().cpu().contiguous()
        return out

    def load_tensors(self, tensors: Dict[str, torch.Tensor]) -> None:
        """Inverse of tensors(); a missing, extra or reshaped tensor raises BundleError."""
        for prefix, module in self.modules().items():
            part = {k[len(prefix) + 1:]: v for k, v in tensors.items()
                    if k.startswith(prefix + '.')}
            try:
                module.load_state_dict(part, strict=True)
            except RuntimeError as exc:
                raise BundleError(f'{self.name} weights do not fit the network: {exc}') from None
        known = set(self.tensors())
        extra = sorted(set(tensors) - known)
        if extra:
            raise BundleError(f'{self.name} weights hold unexpected tensors {extra[:5]}')

    def to(self, device: str) -> 'Policy':
        """Move the networks to device."""
        self.device = device
        for module in self.modules().values():
            module.to(device)
        return self

    def config_dict(self) -> dict:
        """Return the config as a JSON-able dict."""
        return config_to_dict(self.config)


def register_policy(cls: Type[Policy]) -> Type[Policy]:
    """Class decorator adding a policy to the registry under cls.name."""
    if not cls.name or cls.name in _REGISTRY:
        raise ConfigError(f'policy name {cls.name!r} is empty or taken')
    _REGISTRY[cls.name] = cls
    return cls


def policy_names() -> tuple:
    """Return the registered policy names."""
    return tuple(sorted(_REGISTRY))


def policy_class(name: str) -> Type[Policy]:
    """Return the policy class registered as name."""
    if name not in _REGISTRY:
        raise ConfigError(f'unknown policy {name!r}; known: {list(policy_names())}')
    return _REGISTRY[name]


def build_policy(name: str, config: dict, state_dim: int, action_dim: int) -> Policy:
    """Instantiate a registered policy from a JSON config dict."""
    cls = policy_class(name)
    return cls(config_from_dict(cls.config_class, config), state_dim, action_dim)
