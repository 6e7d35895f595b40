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


"""Shared fixtures of the simulator tests: real Hopper demonstrations in a robomimic HDF5."""

from darp_ros.data.demos import Episode
from darp_ros.data.hdf5_writer import write_demos
import gymnasium
import numpy as np
import pytest

HOPPER = 'Hopper-v5'


def hopper_episodes(count: int, steps: int = 40):
    """Episodes of a seeded smooth random controller: real Hopper states and actions."""
    env = gymnasium.make(HOPPER)
    rng = np.random.default_rng(0)
    episodes = []
    for i in range(count):
        obs, _ = env.reset(seed=i)
        observations, actions = [], []
        action = np.zeros(3)
        for _ in range(steps):
            action = np.clip(0.8 * action + 0.4 * rng.normal(size=3), -1, 1)
            observations.append(obs)
            actions.append(action)
            obs, _, terminated, _, _ = env.step(action)
            if terminated:
                break
        episodes.append(Episode(f'demo_{i}', {'obs': np.asarray(observations, np.float32)},
                                np.asarray(actions, np.float64)))
    env.close()
    return episodes


@pytest.fixture(scope='session')
def hopper_data(tmp_path_factory):
    """Four short Hopper episodes, written once per session."""
    path = tmp_path_factory.mktemp('gym') / 'hopper.hdf5'
    write_demos(path, hopper_episodes(4), {'env_name': HOPPER, 'type': 0, 'env_kwargs': {}})
    return path
