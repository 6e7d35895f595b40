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
Summarise the robosuite `darp tune` studies (tune.sh) at an equal budget per task.

Studies of one task are compared at the same number of trials: the first N finished of
each (by trial number), N the smallest count any of that task's studies holds, unless
given. Per study: trials finished, the best score within the budget and its trial, the
median of those N scores (how good a typical drawn recipe is), the core-minutes a trial
took, and the best trial's drawn parameters. Scores are success rates on the tuning
episodes each study scored on (tune.sh: 50010..50029, which picked no checkpoint).

With --bands PARAM=EDGE,EDGE...: instead, each study's finished trials grouped by where the
drawn PARAM falls between the edges, with the mean score of each group (how much a policy
depends on that parameter).

With --finalists: instead, what each study's finalists stage did (tune.sh FINALISTS=N,
recipe_finalists.json): its defaults trial's score if it has one, each finalist's score
on the score episodes and again on the fresh confirming episodes, and the one kept.

Usage: studies_table.py [DIR] [--budget N | --bands PARAM=EDGE,... | --finalists]
(default DIR: docs/results/robosuite/tune)
"""

import argparse
from collections import defaultdict
import json
from pathlib import Path
import statistics

import optuna

from darp_ros.sim.defaults_trial import defaults_trial
from darp_ros.sim.tuning import within_budget

HERE = Path(__file__).parent / 'tune'


def load_study(study_dir: Path):
    """Return the one Optuna study in the folder's study.db."""
    storage = f'sqlite:///{study_dir / "study.db"}'
    name = optuna.get_all_study_summaries(storage)[0].study_name
    return optuna.load_study(study_name=name, storage=storage)


def finished(study) -> list:
    """Return all the study's finished trials, by trial number."""
    return within_budget(study, len(study.trials))


def row(name: str, study, budget: int) -> str:
    """One markdown row for a study at the given budget (its first `budget` finished trials)."""
    done, counted = len(finished(study)), within_budget(study, budget)
    best = max(counted, key=lambda t: t.value)
    minutes = statistics.mean(t.user_attrs.get('seconds', 0.0) for t in counted) / 60
    params = ', '.join(f'{key} {value:.3g}' if isinstance(value, float) else f'{key} {value}'
                       for key, value in best.params.items())
    return (f'| {name} | {done} | {len(counted)} | {best.value:.0%} (trial {best.number}) | '
            f'{statistics.median(t.value for t in counted):.0%} | {minutes:.0f} | {params} |')


def bands(name: str, study, param: str, edges: list) -> str:
    """One markdown row: the study's finished trials by band of `param`, mean score each."""
    bounds = [-float('inf')] + edges + [float('inf')]
    cells = []
    for low, high in zip(bounds, bounds[1:]):
        scores = [t.value for t in finished(study) if low <= t.params[param] < high]
        cells.append(f'{statistics.mean(scores):.0%} ({len(scores)})' if scores else '-')
    return f'| {name} | ' + ' | '.join(cells) + ' |'


def finalists(name: str, study, recipe: dict) -> str:
    """One markdown row: the study's finalists stage as its recipe_finalists.json records it."""
    source = recipe['source']
    first, last = source['confirm_seeds']
    default = defaults_trial(study)
    default = f'{default.value:.0%} (trial {default.number})' if default is not None else '-'
    cells = ', '.join(f'{number}: {score:.0%} -> {confirmed:.0%}'
                      for number, score, confirmed in source['finalists'])
    return (f'| {name} | {source["trials"]} | {default} | {cells} | {first}..{last} | '
            f'trial {source["trial"]} ({source["confirmed"]:.0%}) |')


def main() -> None:
    """Print the studies side by side, each task's at one budget."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    parser.add_argument('dir', nargs='?', type=Path, default=HERE)
    parser.add_argument('--budget', type=int, help='trials counted per study')
    parser.add_argument('--bands', help='PARAM=EDGE,EDGE...: mean score by band of PARAM')
    parser.add_argument('--finalists', action='store_true',
                        help="each study's finalists, from its recipe_finalists.json")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    by_task = defaultdict(dict)
    for db in sorted(args.dir.glob('*/study.db')):
        task, policy = db.parent.name.rsplit('_', 1)
        study = load_study(db.parent)
        if finished(study):
            by_task[task][policy] = study
    if args.finalists:
        print('| study | counted | defaults trial | finalists: score -> fresh score | fresh '
              'episodes (seeds) | kept |')
        print('|---|---|---|---|---|---|')
        for task, studies in by_task.items():
            for policy, study in sorted(studies.items()):
                path = args.dir / f'{task}_{policy}' / 'recipe_finalists.json'
                if path.exists():
                    print(finalists(f'{task} {policy}', study, json.loads(path.read_text())))
        return
    if args.bands:
        param, edges = args.bands.split('=')
        edges = [float(edge) for edge in edges.split(',')]
        labels = [f'< {edges[0]:g}'] + [f'{a:g} to {b:g}' for a, b in zip(edges, edges[1:])]
        print('| study | ' + ' | '.join(labels + [f'>= {edges[-1]:g}']) + ' |')
        print('|---' * (len(edges) + 2) + '|')
        for task, studies in by_task.items():
            for policy, study in sorted(studies.items()):
                if param in study.best_params:
                    print(bands(f'{task} {policy}', study, param, edges))
        return
    print('| study | finished | counted | best (trial) | median | core-min a trial | '
          'best trial drew |')
    print('|---|---|---|---|---|---|---|')
    for task, studies in by_task.items():
        budget = args.budget or min(len(finished(study)) for study in studies.values())
        for policy, study in sorted(studies.items()):
            print(row(f'{task} {policy}', study, budget))


if __name__ == '__main__':
    main()
