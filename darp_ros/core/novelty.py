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


"""How far a state is from the demonstrations, on a scale the demonstrations set."""

from darp_ros.core.memory import DemoMemory
import numpy as np
import torch


def typical_neighbor_distance(memory: DemoMemory, sample: int = 512, seed: int = 0) -> float:
    """
    Return the median distance from a demonstration state to the nearest other episode.

    A new rollout is about that far from its nearest demonstration when it behaves like the
    demonstrations, so novelty divided by this is ~1 in distribution and grows off it.
    Rows of the query's own episode are excluded because its neighbours in time sit
    almost on top of it.
    """
    n = len(memory)
    if n < 2:
        return 1.0
    rows = np.random.default_rng(seed).choice(n, size=min(sample, n), replace=False)
    several_episodes = len(np.unique(memory.episodes)) > 1
    found = memory.search(memory.states[torch.as_tensor(rows)], 1, exclude_rows=rows,
                          exclude_own_episode=several_episodes)
    scale = float(np.median(found.distances[:, 0].cpu().numpy()))
    return scale if np.isfinite(scale) and scale > 0 else 1.0
