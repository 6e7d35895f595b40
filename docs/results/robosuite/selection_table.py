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
Set each run's closed-loop selection against what its kept checkpoint then reported.

Every trained run of `darp benchmark --keep closed_loop` scores about 20 checkpoints on the
same ten tuning episodes and keeps the best. Whether those ten episodes say anything about
the 100 reporting ones is the question this answers, per run: the mean of all scored
checkpoints (how good a typical checkpoint of the run looks), the kept one's tuning score
(and its rescore on 30 fresh tuning episodes when the finalists stage ran), and its
reporting success.

Usage: selection_table.py [DIR]   (default: docs/results/robosuite/scale_floor)
"""

import json
from pathlib import Path
import sys

HERE = Path(__file__).parent / 'scale_floor'


def run_row(bundle_json: Path) -> str:
    """One markdown row: task, demos, policy, seed, trace mean, kept scores, reported."""
    seed_dir = bundle_json.parent
    task, demos, policy, seed = seed_dir.parts[-4:]
    report = json.loads(bundle_json.read_text())['training']['report']
    notes = report.get('notes') or {}
    scores = notes.get('closed_loop_scores') or []
    if not scores:
        return ''
    by_epoch = dict(scores)   # epoch -> score; the last epoch may repeat one
    kept = report['best_epoch']
    confirmed = {epoch: again for epoch, _, again in notes.get('finalists') or []}
    rescored = f'{100 * confirmed[kept]:.0f}%' if kept in confirmed else '-'
    reported = '-'
    eval_json = seed_dir / 'eval.json'
    if eval_json.exists():
        reported = f"{100 * json.loads(eval_json.read_text())['success_rate']:.0f}%"
    trace_mean = 100 * sum(by_epoch.values()) / len(by_epoch)
    return (f'| {task} | {demos[1:]} | {policy} | {seed[4:]} | {trace_mean:.0f}% '
            f'| {100 * by_epoch.get(kept, float("nan")):.0f}% | {rescored} | {reported} |')


def main() -> None:
    """Print one row per training run found under the folder."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    print('| task | demos | policy | seed | mean of the scored checkpoints | kept checkpoint '
          'on the tuning episodes | rescored (finalists) | reported |')
    print('|---|---|---|---|---|---|---|---|')
    for bundle_json in sorted(folder.glob('*/n*/*/seed*/bundle.json')):
        row = run_row(bundle_json)
        if row:
            print(row)


if __name__ == '__main__':
    main()
