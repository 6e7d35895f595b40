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
Print a MuJoCo table of docs/RESULTS.md from the JSON files run.sh wrote.

Usage: table.py [DIR] [SEEDS]   (DIR default: this folder, e.g. docs/results/mujoco/scored50;
SEEDS: how many training seeds to count, the lowest first; default all)
"""

import json
from pathlib import Path
import sys

import numpy as np

HERE = Path(__file__).parent
TASKS = (('hopper', 'Hopper-v5', 2313.65, 3545.57), ('walker2d', 'Walker2d-v5', 2658.40, 4894.01),
         ('halfcheetah', 'HalfCheetah-v5', 1063.23, 5515.41))
POLICIES = ('bc', 'darp', 'vinn', 'nn1', 'mcnn')


def cell(folder: Path, task: str, policy: str, seeds=None):
    """Return per-training-seed mean returns and pooled per-episode std, or None."""
    files = sorted(folder.glob(f'{task}_{policy}_seed*.json'))
    files = [f for f in files if not f.name.endswith('.bundle.json')]
    files = sorted(files, key=lambda f: int(f.stem.rsplit('seed', 1)[1]))[:seeds]
    if not files:
        return None
    runs = [json.loads(f.read_text()) for f in files]
    return [r['return_mean'] for r in runs], [r['return_std'] for r in runs]


def main() -> None:
    """Print one markdown row per task."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else None
    print('| task | ' + ' | '.join(POLICIES) + ' | DARP / BC | authors BC -> DARP (ratio) |')
    print('|---|' + '---|' * (len(POLICIES) + 2))
    for task, env, their_bc, their_darp in TASKS:
        row, means = [env], {}
        for policy in POLICIES:
            found = cell(folder, task, policy, seeds)
            if found is None:
                row.append('not run')
                continue
            per_seed, _ = found
            means[policy] = float(np.mean(per_seed))
            spread = f' ± {np.std(per_seed):.0f}' if len(per_seed) > 1 else ''
            each = ', '.join(f'{v:.0f}' for v in per_seed)
            row.append(f'**{means[policy]:.0f}**{spread} ({each})')
        ratio = (f"{means['darp'] / means['bc']:.2f}x" if 'darp' in means and 'bc' in means
                 else '-')
        row += [ratio, f'{their_bc:.0f} -> {their_darp:.0f} ({their_darp / their_bc:.2f}x)']
        print('| ' + ' | '.join(row) + ' |')


if __name__ == '__main__':
    main()
