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
Time DARP's training on image-sized rows, each shortcut against the literal path it replaces.

The Lift image bundle's shape: 1950 memory rows of 1033 features (two cameras through
ResNet-18, plus proprioception), 7-d actions, the recipe defaults (k 512, lookback 32,
154 kept), batches of 64. Prints seconds for the neighbour cache (pairwise distances against
the gather of k x L states) and milliseconds per batch, forward and backward (the first
layer once per memory row against once per pair). Random data: only the time matters.

    OMP_NUM_THREADS=1 .venv/bin/python docs/results/bench/darp_training_speed.py
"""

import time

from darp_ros.core.memory import DemoMemory
from darp_ros.core.policies import darp
import numpy as np
import torch

ROWS, FEATURES, ACTIONS, EPISODES, BATCH = 1950, 1033, 7, 50, 64


def seconds(run, repeats=1) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    memory = DemoMemory(rng.normal(size=(ROWS, FEATURES)), rng.normal(size=(ROWS, ACTIONS)),
                        np.repeat(np.arange(EPISODES), ROWS // EPISODES),
                        np.tile(np.arange(ROWS // EPISODES), EPISODES), device='cpu')
    policy = darp.DARPPolicy(darp.DARPConfig(), FEATURES, ACTIONS)
    pairwise = seconds(lambda: policy.training_neighbors(memory))
    limit, darp.PAIRWISE_FLOATS = darp.PAIRWISE_FLOATS, 0
    gathered = seconds(lambda: policy.training_neighbors(memory))
    darp.PAIRWISE_FLOATS = limit
    print(f'neighbour cache: pairwise {pairwise:.1f} s, gather {gathered:.1f} s')

    network, kept = policy.network, policy.config.kept
    states, actions = memory.states, memory.actions

    def batch(from_rows: bool):
        nb = torch.randint(0, ROWS, (BATCH, kept))
        query, target = torch.randn(BATCH, FEATURES), torch.randn(BATCH, ACTIONS)
        loss = (network.loss_from_rows(query, states, actions, nb, target) if from_rows
                else network.loss(query, states[nb], actions[nb], target))
        loss.backward()

    for from_rows in (False, True, False, True):
        batch(from_rows)
        ms = 1000 * seconds(lambda: batch(from_rows), repeats=5)
        print(f"batch of {BATCH}, forward + backward: {'per row' if from_rows else 'per pair'} "
              f'{ms:.0f} ms')


if __name__ == '__main__':
    main()
