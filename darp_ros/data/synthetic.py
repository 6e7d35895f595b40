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
Synthetic demonstrations: a smooth nonlinear expert sampled along a few trajectories.

Used by the tests and for trying the CLI without a simulator. Queries between the
trajectories are off the demonstrated states, which is where retrieval with offsets helps.
"""

from typing import Optional, Tuple

from darp_ros.data.demos import Episode
import numpy as np

ENV_ARGS = {'env_name': 'SyntheticField', 'type': 0, 'env_kwargs': {'control_freq': 20}}


def expert_action(state: np.ndarray, frequency: float = 2.0) -> np.ndarray:
    """
    Return the expert: a smooth nonlinear map from (N, 2+) states to (N, 2) actions.

    Higher frequencies make the map harder for a small network to represent globally.
    """
    x, y = frequency * state[..., 0], frequency * state[..., 1]
    return np.stack([np.sin(x) + np.cos(0.8 * y), np.sin(0.6 * (x + y)) * np.cos(0.5 * x)],
                    axis=-1)


def trajectory_states(start: np.ndarray, length: int, heading: float) -> np.ndarray:
    """Return a gently curving path of length steps from start."""
    t = np.linspace(0.0, 1.0, length)[:, None]
    direction = np.array([np.cos(heading), np.sin(heading)])
    normal = np.array([-direction[1], direction[0]])
    return start + 2.0 * t * direction + 0.3 * np.sin(3.0 * t) * normal


def make_episodes(count: int = 12, length: int = 40, seed: int = 0, extra_dims: int = 0,
                  image_size: Optional[int] = None,
                  frequency: float = 2.0) -> Tuple[Episode, ...]:
    """Episodes with obs 'pos' (2,), optional 'extra' (extra_dims,), optional 'camera' image."""
    rng = np.random.default_rng(seed)
    episodes = []
    for i in range(count):
        start = rng.uniform(-1.0, -0.2, size=2)
        states = trajectory_states(start, length, rng.uniform(0.3, 1.2))
        obs = {'pos': states.astype(np.float32)}
        if extra_dims:
            obs['extra'] = np.repeat(rng.normal(size=(1, extra_dims)), length, 0).astype(
                np.float32)
        if image_size:
            obs['camera'] = render_dots(states, image_size)
        actions = expert_action(states, frequency).astype(np.float32)
        episodes.append(Episode(f'demo_{i}', obs, actions))
    return tuple(episodes)


def render_dots(states: np.ndarray, size: int) -> np.ndarray:
    """(T, size, size, 3) uint8 images with a bright square where the state is."""
    images = np.zeros((len(states), size, size, 3), dtype=np.uint8)
    pixels = np.clip(((states[:, :2] + 1.5) / 3.0 * (size - 3)).astype(int), 0, size - 3)
    for t, (u, v) in enumerate(pixels):
        images[t, v:v + 3, u:u + 3] = (255, 200, 50)
    return images


def between_queries(episodes, count: int, seed: int = 0) -> np.ndarray:
    """States halfway between random pairs of demonstrated states of different episodes."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        a, b = rng.choice(len(episodes), size=2, replace=False)
        pa = episodes[a].obs['pos'][rng.integers(len(episodes[a]))]
        pb = episodes[b].obs['pos'][rng.integers(len(episodes[b]))]
        if np.linalg.norm(pa - pb) < 0.6:
            out.append((pa + pb) / 2.0)
    return np.asarray(out, dtype=np.float32)
