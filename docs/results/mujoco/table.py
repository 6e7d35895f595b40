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

The DARP / BC column carries a 95% bootstrap interval over training seeds: each policy's
seeds resampled with replacement, independently, 10,000 times. It answers whether a ratio
read from a handful of seeds can be told apart from a target such as 1.3x.
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


def ratio_interval(darp: list, bc: list, draws: int = 10_000) -> tuple:
    """95% bootstrap interval of mean(darp) / mean(bc) over training seeds."""
    rng = np.random.default_rng(0)   # fixed, so the table reprints identically
    darp_means = rng.choice(darp, size=(draws, len(darp))).mean(axis=1)
    bc_means = rng.choice(bc, size=(draws, len(bc))).mean(axis=1)
    low, high = np.percentile(darp_means / bc_means, [2.5, 97.5])
    return float(low), float(high)


def ratio_text(per_seed: dict) -> str:
    """DARP / BC of the seed means, with its interval when both have several seeds."""
    if 'darp' not in per_seed or 'bc' not in per_seed:
        return '-'
    darp, bc = per_seed['darp'], per_seed['bc']
    text = f'{np.mean(darp) / np.mean(bc):.2f}x'
    if len(darp) > 1 and len(bc) > 1:
        low, high = ratio_interval(darp, bc)
        text += f' [{low:.2f}-{high:.2f}]'
    return text


def main() -> None:
    """Print one markdown row per task."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else None
    print('| task | ' + ' | '.join(POLICIES) + ' | DARP / BC | authors BC -> DARP (ratio) |')
    print('|---|' + '---|' * (len(POLICIES) + 2))
    for task, env, their_bc, their_darp in TASKS:
        row, runs = [env], {}
        for policy in POLICIES:
            found = cell(folder, task, policy, seeds)
            if found is None:
                row.append('not run')
                continue
            per_seed, _ = found
            runs[policy] = per_seed
            spread = f' ± {np.std(per_seed):.0f}' if len(per_seed) > 1 else ''
            each = ', '.join(f'{v:.0f}' for v in per_seed)
            row.append(f'**{np.mean(per_seed):.0f}**{spread} ({each})')
        theirs = f'{their_bc:.0f} -> {their_darp:.0f} ({their_darp / their_bc:.2f}x)'
        row += [ratio_text(runs), theirs]
        print('| ' + ' | '.join(row) + ' |')


if __name__ == '__main__':
    main()
