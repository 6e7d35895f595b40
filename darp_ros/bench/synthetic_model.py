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
A model the size of a real deployment without training one: random weights, synthetic rows.

Latency does not depend on what the weights learned, only on the shapes: the encoder, the
feature width, the number of indexed rows and the networks. The rows are random walks (one
per episode) rather than independent Gaussians, so they lie near curves the way
demonstration states do, which is the structure approximate indexes rely on.
"""

from dataclasses import dataclass
from typing import Dict, Optional

from darp_ros.core.encoders import ImageEncoder
from darp_ros.core.errors import ConfigError
from darp_ros.core.image_preprocessing import ImagePreprocessing
from darp_ros.core.index import IndexConfig
from darp_ros.core.memory import DemoMemory
from darp_ros.core.model import TrainedModel
from darp_ros.core.normalizer import Normalizer
from darp_ros.core.policies import build_policy
from darp_ros.core.spec import ActionSpec, ObservationSpec
import numpy as np

# Settings that let each policy act without fitting: VINN would otherwise choose k on data.
POLICY_CONFIGS = {'vinn': {'k': 16}}
# In z-scored units: a few task paths; each episode follows one, offset and wobbling.
TASKS = 8
PATH_STEP = 0.15
EPISODE_OFFSET = 0.3
WALK_STEP = 0.02
EPISODE_CHUNK = 256


@dataclass(frozen=True)
class SyntheticSetup:
    """The shapes of a synthetic deployment: rows, observation keys, action, index, device."""

    rows: int = 100_000
    low_dim: int = 19
    cameras: int = 0
    image_size: int = 84
    action_dim: int = 7
    episode_length: int = 200
    index: IndexConfig = IndexConfig()
    device: str = 'cpu'
    seed: int = 0

    def __post_init__(self):
        """Reject sizes a deployment cannot have."""
        for name, minimum in (('rows', 2), ('low_dim', 0), ('cameras', 0), ('image_size', 8),
                              ('action_dim', 1), ('episode_length', 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f'SyntheticSetup.{name}: expected an int >= {minimum}, '
                                  f'got {value!r}')
        if self.low_dim == 0 and self.cameras == 0:
            raise ConfigError('SyntheticSetup: expected low_dim > 0 or cameras > 0, got neither')

    def obs_spec(self) -> ObservationSpec:
        """Return 'proprio' (low_dim,) and camera0.. (S, S, 3), in feature order."""
        shapes = {'proprio': (self.low_dim,)} if self.low_dim else {}
        cameras = tuple(f'camera{i}' for i in range(self.cameras))
        shapes.update({name: (self.image_size, self.image_size, 3) for name in cameras})
        return ObservationSpec.from_shapes(shapes, cameras)


def walk_rows(count: int, dim: int, episode_length: int, rng) -> np.ndarray:
    """
    Return (count, dim) float32 demonstration-like rows, one episode every episode_length.

    Episodes of one task follow the same path with their own offset and wobble, so a query's
    neighbors come from many episodes (as in real demonstrations), not from one isolated one.
    """
    paths = np.cumsum(rng.standard_normal((TASKS, episode_length, dim), np.float32)
                      * PATH_STEP, axis=1)
    paths += rng.standard_normal((TASKS, 1, dim), np.float32)
    out = np.empty((count, dim), np.float32)
    per_chunk = EPISODE_CHUNK * episode_length
    for first in range(0, count, per_chunk):
        rows = min(per_chunk, count - first)
        episodes = -(-rows // episode_length)
        walk = rng.standard_normal((episodes, episode_length, dim), np.float32) * WALK_STEP
        walk[:, 0] = rng.standard_normal((episodes, dim), np.float32) * EPISODE_OFFSET
        np.cumsum(walk, axis=1, out=walk)
        walk += paths[rng.integers(0, TASKS, size=episodes)]
        out[first:first + rows] = walk.reshape(-1, dim)[:rows]
    return out


class SyntheticDeployment:
    """One memory and one encoder shared by every policy, so they differ only in the policy."""

    def __init__(self, setup: SyntheticSetup):
        self.setup = setup
        self.spec = setup.obs_spec()
        rng = np.random.default_rng(setup.seed)
        self.encoder: Optional[ImageEncoder] = None
        if setup.cameras:
            self.encoder = ImageEncoder.random(
                setup.seed, ImagePreprocessing(size=setup.image_size), setup.device)
        dim, adim = self.spec.feature_dim, setup.action_dim
        states = walk_rows(setup.rows, dim, setup.episode_length, rng)
        actions = walk_rows(setup.rows, adim, setup.episode_length, rng)
        ids = np.arange(setup.rows)
        self.memory = DemoMemory(states, actions, ids // setup.episode_length,
                                 ids % setup.episode_length, setup.index, setup.device)
        self.memory.to(setup.device)
        self.state_normalizer = Normalizer(rng.normal(size=dim), rng.uniform(0.5, 2.0, dim))
        self.action_normalizer = Normalizer(np.zeros(adim), np.full(adim, 0.1))
        self._rng = rng

    def model(self, policy: str, config: Optional[Dict] = None) -> TrainedModel:
        """Return a TrainedModel of the named policy with random weights over the shared rows."""
        setup = self.setup
        if config is None:
            config = POLICY_CONFIGS.get(policy, {})
        network = build_policy(policy, dict(config), self.spec.feature_dim, setup.action_dim)
        low = -np.ones(setup.action_dim)
        return TrainedModel(
            policy=network.to(setup.device), obs_spec=self.spec,
            action_spec=ActionSpec(setup.action_dim, low, -low),
            state_normalizer=self.state_normalizer, action_normalizer=self.action_normalizer,
            memory=self.memory, index_config=setup.index, encoder=self.encoder,
            episode_names=[f'demo_{e}' for e in range(int(self.memory.episodes[-1]) + 1)],
            env_args={'env_kwargs': {'control_freq': 20}})

    def observations(self, count: int, noise: float = 0.1) -> list:
        """
        Return count raw observations near demonstration rows, as a node would receive them.

        Low-dim parts are demonstration states plus z-scored noise, mapped back to raw units;
        camera images are random pixels (the random encoder's features land wherever they do).
        """
        out = []
        rng = self._rng
        rows = rng.integers(0, self.setup.rows, size=count)
        low_dim = self.setup.low_dim
        for row in rows:
            obs = {}
            if low_dim:
                z = self.memory.states[int(row), :low_dim].cpu().numpy()
                z = z + noise * rng.standard_normal(low_dim).astype(np.float32)
                raw = z * self.state_normalizer.std[:low_dim] + \
                    self.state_normalizer.mean[:low_dim]
                obs['proprio'] = raw.astype(np.float32)
            for name in self.spec.image_keys:
                size = self.setup.image_size
                obs[name] = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            out.append(obs)
        return out
