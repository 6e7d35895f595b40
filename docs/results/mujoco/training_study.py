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
The training study behind docs/RESULTS.md's "Why training fell short" (not part of the package).

Trains one policy per training seed in-process with the given options, optionally keeps
the checkpoint that scored best on tuning seeds, and reports the mean return on held-out
seeds. Example (BC, the authors' Hopper recipe at their effective batch of 64):

  .venv/bin/python docs/results/mujoco/training_study.py hopper bc \
      '{"hidden": [128, 128, 128]}' \
      '{"epochs": 120, "batch_size": 64, "lr": 1e-3, "weight_decay": 1e-5}' \
      '[0, 1, 2, 3]' 200000 50 bc_b64
"""

import json
import sys
import time

from darp_ros.core.pipeline import TrainOptions, train_model
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.training import TrainConfig
from darp_ros.data.hdf5 import read_demos
from darp_ros.sim.gym_eval import evaluate_runtime
from darp_ros.sim.selection import Selection

import numpy as np

import torch


def main(argv) -> None:
    """Run the study the arguments describe; print one line per seed and the mean."""
    task, policy, config, train, seeds = argv[0], argv[1], *map(json.loads, argv[2:5])
    eval_seed, episodes, tag = int(argv[5]), int(argv[6]), argv[7]
    torch.set_num_threads(1)
    data = read_demos(f'../shared/data/mujoco_experts/{task}.hdf5', ('obs',))
    env_args = dict(data.env_args)
    results = []
    for seed in seeds:
        start = time.time()
        options = TrainOptions(policy, ('obs',), config, TrainConfig(
            seed=seed, progress=False, **{'keep': 'last', **train}), val_fraction=0,
            device='cpu')
        # The tuning seeds `darp train` uses: 10 episodes score each checkpoint; finalists,
        # where asked for, are rescored on the 30 after them.
        score, confirm = Selection(episodes=10,
                                   finalists=train.get('select_finalists', 0)).scorers(env_args)
        model = train_model(data.episodes, options, env_args, score, confirm)
        report = evaluate_runtime(PolicyRuntime(model), env_args, eval_seed, episodes)
        scores = model.training['report']['notes'].get('closed_loop_scores')
        results.append(report.mean)
        print(f'{tag} seed {seed}: {report.mean:.0f} (std {report.std:.0f}) '
              f'[{time.time() - start:.0f}s] best_epoch '
              f"{model.training['report']['best_epoch']} scores "
              f'{[(e, round(v)) for e, v in scores] if scores else None}', flush=True)
    print(f'{tag} MEAN {np.mean(results):.0f} over seeds {seeds}: '
          f'{[round(x) for x in results]}', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
