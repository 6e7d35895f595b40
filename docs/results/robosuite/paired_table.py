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
DARP against every other policy of a `darp benchmark` run, episode by episode.

All policies ran on the same reporting seeds, so beside the success rates the episodes only
one of two policies solved say whether they differ (exact McNemar test). Training seed s of
DARP is paired with training seed s of the other policy where both have it; 1-NN has one
run (seed 0), so against it only DARP's seed 0 counts. The last column is DARP's lead in
points per paired training seed, their mean and its 95% Student t interval over the seeds:
the McNemar test counts episodes, this one how far training seeds move the lead.

With --darp-from OTHER, DARP's runs come from another run folder on the same
demonstrations and seeds (e.g. DARP at its defaults, scale_floor/, against the tuned
baselines of tuned/). With --fill-from OTHER, a policy DIR lacks in a cell is taken from
OTHER (e.g. VINN and 1-NN, which have no checkpoints for a checkpoint-finalists run to
pick again, from the run whose rows they share).

Usage: paired_table.py [DIR] [--darp-from OTHER] [--fill-from OTHER ...]
(default DIR: docs/results/robosuite/scale_floor)
"""

import argparse
from collections import defaultdict
import json
from pathlib import Path

from darp_ros.sim.paired import paired, seed_lead

HERE = Path(__file__).parent / 'scale_floor'
CONDITIONS = {'eval': 'nominal', 'eval_shift': 'placement x1.5'}


def outcomes(folder: Path, condition: str) -> dict:
    """Success keyed by (training seed, environment seed) over the policy's seed folders."""
    found = {}
    for path in sorted(folder.glob(f'seed*/{condition}.json')):
        figures = json.loads(path.read_text())
        solved = set(figures['successful_seeds'])
        lost = set(figures.get('lost_seeds') or [])    # episodes that never ran
        seed = int(path.parent.name[len('seed'):])
        first, last = figures['seeds']
        for env_seed in set(range(first, last + 1)) - lost:
            found[(seed, env_seed)] = env_seed in solved
    return found


def runs_by_cell(root: Path) -> dict:
    """{(task, demos, condition name): {policy: outcomes}} of one benchmark run folder."""
    cells = defaultdict(dict)
    for folder in sorted(root.glob('*/n*/*')):
        task, demos, policy = folder.parts[-3], int(folder.parts[-2][1:]), folder.parts[-1]
        for condition, name in CONDITIONS.items():
            runs = outcomes(folder, condition)
            if runs:
                cells[(task, demos, name)][policy] = runs
    return cells


def one_run_for_every_seed(a: dict, b: dict, b_seed: int) -> dict:
    """B's run of training seed b_seed keyed as every training seed of A, to pair them all.

    For a policy that ran once (1-NN) or whose seeds are one policy (VINN with k fixed).
    """
    one_run = {episode: solved for (seed, episode), solved in b.items() if seed == b_seed}
    return {(seed, episode): one_run[episode] for seed, episode in a if episode in one_run}


def merged_cells(root: Path, fill_from: list, darp_from: Path = None) -> dict:
    """runs_by_cell(root), its missing policies filled from fill_from, DARP from darp_from."""
    cells = runs_by_cell(root)
    for other in fill_from:
        for key, policies in runs_by_cell(other).items():
            if key in cells:
                cells[key] = {**policies, **cells[key]}
    if darp_from:
        darp = runs_by_cell(darp_from)
        for key, policies in cells.items():
            policies.pop('darp', None)
            if 'darp' in darp.get(key, {}):
                policies['darp'] = darp[key]['darp']
    return cells


def main() -> None:
    """One row per (task, demos, condition, other policy)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    parser.add_argument('dir', nargs='?', type=Path, default=HERE)
    parser.add_argument('--darp-from', type=Path, help="take DARP's runs from this folder")
    parser.add_argument('--fill-from', type=Path, action='append', default=[],
                        help='take the policies DIR lacks in a cell from this folder '
                             '(repeatable: the first folder that has a policy gives it)')
    args = parser.parse_args()
    cells = merged_cells(args.dir, args.fill_from, args.darp_from)
    print('| task | demos | initial states | against | paired episodes | only DARP | '
          'only the other | both | exact McNemar | lead by training seed |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for (task, demos, name), policies in sorted(cells.items()):
        if 'darp' not in policies:
            continue
        for other in sorted(set(policies) - {'darp'}):
            pair = paired(policies['darp'], policies[other])
            if pair.episodes:
                print(f'| {task} | {demos} | {name} | {other} | {pair.episodes} | '
                      f'{pair.only_a} | {pair.only_b} | {pair.both} | {pair.p_text()} | '
                      f'{seed_lead(policies["darp"], policies[other]).text()} |')


if __name__ == '__main__':
    main()
