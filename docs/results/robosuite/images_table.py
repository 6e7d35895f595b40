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
Print the image rows of docs/RESULTS.md from the JSON files images.sh wrote.

Usage: images_table.py [DIR]   (default: docs/results/robosuite/images)

One row per trunk: a pretrained trunk is named by its weights file's sha256 prefix (the file
names carry it), since pretraining again need not give the same weights. Where a task has
several pretrained trunks, one more row pools them: a policy gets a cell there only if it ran
on every one of them, so that no policy's figure leans on a trunk another's lacks. Below the
table, DARP against every other policy episode by episode: all ran on the same environment
seeds, so the episodes only one of two policies solved say more than two overlapping
intervals do (an exact McNemar test on those discordant episodes). Runs pair only on the
same trunk and training seed, in the pooled row as well.
"""

from collections import defaultdict
import json
from pathlib import Path
import sys

from darp_ros.sim.paired import paired
from darp_ros.sim.results_report import cell, pooled, REFERENCE

HERE = Path(__file__).parent / 'images'
POLICIES = ('bc', 'darp', 'vinn', 'mcnn', 'nn1')
# The encoder label of the row that pools a task's pretrained trunks.
POOLED = 'pretrained-all'


def encoder_order(label: str) -> tuple:
    """Pretrained trunks first (each its own row: 'pretrained-<sha256 prefix>'), then their
    pooled row, then random."""
    return (label == 'random', label.startswith(POOLED), label)


def encoder_text(label: str) -> str:
    """'pretrained-1cc13d87' -> 'pretrained (1cc13d87)': the trunk a row ran on;
    'pretrained-all 2 trunks' -> 'pretrained (all 2 trunks)'."""
    kind, _, trunk = label.partition('-')
    return f'{kind} ({trunk})' if trunk else kind


def outcomes(evals: list) -> dict:
    """Success keyed by (trunk, training seed, environment seed): seed s pairs with seed s
    on one trunk only."""
    return {(ev['encoder'], ev['training_seed'], e['seed']): e['success']
            for ev in evals for e in ev['per_episode']}


def pool_trunks(runs: dict) -> dict:
    """Add a POOLED encoder per (task, demos) with several pretrained trunks,
    holding each policy's runs from all of them; a policy missing from any trunk is left out.
    """
    trunks = defaultdict(set)
    for task, demos, encoder, _ in runs:
        if encoder.startswith('pretrained-'):
            trunks[(task, demos)].add(encoder)
    pooled_runs = {}
    for (task, demos), encoders in trunks.items():
        if len(encoders) < 2:
            continue
        for policy in POLICIES:
            per_trunk = [runs.get((task, demos, encoder, policy)) for encoder in sorted(encoders)]
            if all(per_trunk):
                pooled_runs[(task, demos, f'{POOLED} {len(encoders)} trunks', policy)] = [
                    ev for evals in per_trunk for ev in evals]
    return {**runs, **pooled_runs}


def paired_lines(runs: dict) -> list:
    """One line per (task, demos, encoder, other policy): episodes only DARP solved, only
    the other, both.

    Each training seed of DARP is paired with the same training seed of the other policy,
    episode by environment seed; 1-NN's one run (seed 0) pairs with DARP's seed 0 only, as
    in paired_table.py, so that no run is counted more than once.
    """
    lines = []
    for (task, demos, encoder, policy), evals in sorted(
            runs.items(), key=lambda kv: (kv[0][0], kv[0][1], encoder_order(kv[0][2]), kv[0][3])):
        if policy != 'darp':
            continue
        for other in POLICIES:
            others = runs.get((task, demos, encoder, other))
            if other == 'darp' or not others:
                continue
            pair = paired(outcomes(evals), outcomes(others))
            lines.append(f'- {task} {demos} {encoder_text(encoder)}, DARP against {other}: '
                         f'of {pair.episodes} paired episodes, DARP alone solved {pair.only_a}, '
                         f'{other} alone {pair.only_b}, both {pair.both} '
                         f'(exact McNemar {pair.p_text()})')
    return lines


def main() -> None:
    """One row per (task, demos, encoder), one column per policy."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    runs = defaultdict(list)
    for path in sorted(folder.glob('*_seed*.json')):
        if path.name.endswith('.bundle.json'):
            continue
        task, demos, encoder, policy, seed = path.stem.split('_')
        runs[(task, int(demos), encoder, policy)].append(
            {**json.loads(path.read_text()), 'encoder': encoder, 'training_seed': seed})
    runs = pool_trunks(runs)
    print('| task | demos | image encoder | ' + ' | '.join(POLICIES) + ' |')
    print('|---|---|---|' + '---|' * len(POLICIES))
    for task, demos in sorted({(t, d) for t, d, _, _ in runs}):
        encoders = sorted({e for t, d, e, _ in runs if (t, d) == (task, demos)},
                          key=encoder_order)
        for encoder in encoders:
            cells = {p: pooled(runs[(task, demos, encoder, p)]) for p in POLICIES
                     if runs.get((task, demos, encoder, p))}
            if not cells:
                continue
            reference = cells.get(REFERENCE)
            row = [cell(cells[p], reference if p != REFERENCE else None) if p in cells else '-'
                   for p in POLICIES]
            print(f'| {task} | {demos} | {encoder_text(encoder)} | ' + ' | '.join(row) + ' |')
    print()
    print('\n'.join(paired_lines(runs)))


if __name__ == '__main__':
    main()
