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
What acts in a rollout: a scripted expert or a trained policy.

The expert reads the simulator; the policy reads observations only, through the same
PolicyRuntime the ROS node uses.
"""

import time
from typing import Dict, List, Mapping, Optional

from darp_ros.core.errors import ConfigError
from darp_ros.sim.experts import expert_for
import numpy as np

EXPERT_SEED_OFFSET = 7_919   # decorrelates the demonstrator's style from the scene


def check_style_diversity(diversity: float) -> float:
    """Return diversity, or raise ConfigError unless it lies in [0, 1]."""
    if not 0.0 <= diversity <= 1.0:
        raise ConfigError(f'style diversity must be in [0, 1] (1: the full style ranges, '
                          f'0: one fixed demonstrator), found {diversity}')
    return diversity


class ExpertAgent:
    """A scripted expert with per-episode randomized style and action noise."""

    def __init__(self, task: str, noise: float = 0.0, style_diversity: float = 1.0):
        if noise < 0:
            raise ConfigError(f'expert noise must be >= 0, found {noise}')
        self.factory = expert_for(task)
        self.noise = noise
        self.style_diversity = check_style_diversity(style_diversity)
        self.expert = None

    def reset(self, env, seed: int) -> None:
        """Start an episode; its style depends on seed (and style_diversity) only."""
        rng = np.random.default_rng(seed + EXPERT_SEED_OFFSET)
        self.expert = self.factory(env, rng, self.noise, self.style_diversity)

    def act(self, env, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Return the expert's action for the current simulator state."""
        return self.expert.act(env)

    @property
    def gave_up(self) -> bool:
        """Return True when the expert knows the episode is lost (saves simulating it)."""
        return self.expert is not None and self.expert.failed


class PolicyAgent:
    """A trained bundle acting on observations, optionally corrupted by sensor noise."""

    gave_up = False

    def __init__(self, runtime, obs_noise: float = 0.0):
        if obs_noise < 0:
            raise ConfigError(f'observation noise must be >= 0, found {obs_noise}')
        self.runtime = runtime
        self.obs_noise = obs_noise
        self.low_dim = [key.name for key in runtime.obs_spec.keys if key.kind != 'rgb']
        self.rng: Optional[np.random.Generator] = None
        self.latencies: List[float] = []    # this episode's policy steps, in seconds

    def reset(self, env, seed: int) -> None:
        """Start an episode: clear the policy's history and seed the sensor noise."""
        self.runtime.reset()
        self.rng = np.random.default_rng(seed)
        self.latencies = []

    def act(self, env, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """Return the policy's action and record how long it took."""
        obs = self._corrupt(obs)
        start = time.perf_counter()
        action = self.runtime.act(obs)
        self.latencies.append(time.perf_counter() - start)
        return action

    def _corrupt(self, obs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        if self.obs_noise == 0:
            return dict(obs)
        noisy = dict(obs)
        for key in self.low_dim:
            noisy[key] = obs[key] + self.rng.normal(0.0, self.obs_noise, np.shape(obs[key]))
        return noisy
