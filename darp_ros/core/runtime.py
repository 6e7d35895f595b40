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
The runtime object every consumer calls: raw observation dict in, raw action out.

The simulator evaluator, the ROS node and the bag evaluator all use PolicyRuntime, so
normalization, encoding, retrieval and inference are the same code everywhere.
"""

from dataclasses import dataclass
import time
from typing import Mapping, Optional, Tuple

from darp_ros.core.bundle import load_bundle
from darp_ros.core.errors import ObservationError
from darp_ros.core.features import FeatureExtractor
from darp_ros.core.model import TrainedModel
from darp_ros.core.novelty import typical_neighbor_distance
import numpy as np
import torch


@dataclass(frozen=True)
class Neighbor:
    """One demonstration row behind an action."""

    episode: int
    step: int
    distance: float
    episode_name: str = ''


@dataclass(frozen=True)
class StepResult:
    """An action, the neighbors it came from, and how long inference took."""

    action: np.ndarray
    neighbors: Tuple[Neighbor, ...]
    novelty: float        # distance to the nearest demonstration state (z-scored)
    latency_s: float
    # The z-scored state the policy acted on, so diagnostics need not extract it again
    # (with cameras that would run the encoder twice per step).
    query: Optional[np.ndarray] = None


class PolicyRuntime:
    """A trained model ready to act on raw observations."""

    def __init__(self, model: TrainedModel):
        self.model = model
        self.extractor = FeatureExtractor(model.obs_spec, model.encoder)
        self.device = model.memory.states.device
        self._novelty_scale = None

    @classmethod
    def load(cls, directory, device: str = 'auto') -> 'PolicyRuntime':
        """Load a bundle from disk."""
        return cls(load_bundle(directory, device))

    @property
    def obs_spec(self):
        """Return the observation keys and shapes this policy expects."""
        return self.model.obs_spec

    @property
    def action_dim(self) -> int:
        """Width of the returned action."""
        return self.model.action_spec.dim

    @property
    def policy_name(self) -> str:
        """Return the registered name of the policy."""
        return self.model.policy.name

    def reset(self) -> None:
        """Start a new rollout: clears the policy's query history."""
        self.model.policy.reset()

    def act(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Return the raw action (A,) float32 for one raw observation."""
        return self.step(obs).action

    def step(self, obs: Mapping[str, np.ndarray]) -> StepResult:
        """Act on one observation and report the neighbors and latency."""
        start = time.perf_counter()
        features = self.extractor.one(obs)[None]
        actions, output, novelty, query = self._infer(features)
        neighbors = ()
        if output.episodes is not None:
            names = self.model.episode_names
            neighbors = tuple(
                Neighbor(int(e), int(s), float(d), names[e] if 0 <= e < len(names) else '')
                for e, s, d in zip(output.episodes[0], output.steps[0], output.distances[0]))
        return StepResult(actions[0], neighbors, float(novelty[0]),
                          time.perf_counter() - start, query[0])

    def act_batch(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """
        Actions (B, A) for a batch {key: (B, ...)} of independent observations.

        Policies with history treat the batch as B parallel rollouts.
        """
        actions, _, _, _ = self._infer(self.extractor(obs))
        return actions

    # inference_mode, not just no_grad: it also skips version counting of every tensor.
    @torch.inference_mode()
    def _infer(self, features: np.ndarray):
        model = self.model
        states = model.state_normalizer.normalize(
            torch.as_tensor(features, dtype=torch.float32, device=self.device))
        output = model.policy.act(states, model.memory)
        novelty = self._novelty(states, output)
        actions = model.action_normalizer.denormalize(output.actions).cpu().numpy()
        if not np.all(np.isfinite(actions)):
            raise ObservationError(f'{model.policy.name} produced a non-finite action '
                                   f'{actions.tolist()}')
        return actions.astype(np.float32), output, novelty, states.cpu().numpy()

    def _novelty(self, states: torch.Tensor, output) -> np.ndarray:
        if output.novelty is not None:
            return output.novelty
        return self.model.memory.search(states, 1).distances[:, 0].cpu().numpy()

    def novelty_scale(self) -> float:
        """Return the typical distance between demonstrations, that novelty is compared to."""
        if self._novelty_scale is None:
            with torch.no_grad():
                self._novelty_scale = typical_neighbor_distance(self.model.memory)
        return self._novelty_scale

    def describe(self) -> dict:
        """Return a short summary for logs."""
        return {'policy': self.policy_name, 'obs_keys': list(self.obs_spec.names),
                'action_dim': self.action_dim, 'demonstration_rows': len(self.model.memory),
                'device': str(self.device)}
