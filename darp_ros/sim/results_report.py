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
Turn benchmark evaluations into docs/RESULTS.md tables and a success-vs-demos plot.

Only the part between the markers is generated, so the analysis written around the
tables survives a re-run.
"""

from collections import defaultdict
from pathlib import Path
import statistics
from typing import Sequence

from darp_ros.core.stats import wilson_interval

BEGIN, END = '<!-- results:begin -->', '<!-- results:end -->'
# The column the others are compared with: a cell whose pooled interval lies wholly above
# or below this column's differs from it beyond the evaluation's noise.
REFERENCE = 'bc'


def pooled(seed_rows: Sequence[dict]) -> dict:
    """Return one cell's figures over its training seeds: mean, spread, pooled interval."""
    rates = [row['success_rate'] for row in seed_rows]
    successes = sum(round(row['success_rate'] * row['episodes']) for row in seed_rows)
    trials = sum(row['episodes'] for row in seed_rows)
    return {'success_rate': statistics.fmean(rates),
            'spread': statistics.stdev(rates) if len(rates) > 1 else 0.0,
            'per_seed': rates, 'wilson95': list(wilson_interval(successes, trials))}


def cell(figures: dict, reference: dict = None) -> str:
    """Return 'rate% [low-high]', or with several seeds 'mean% ±sd (each) [pooled]'."""
    low, high = figures['wilson95']
    text = f"{100 * figures['success_rate']:.0f}%"
    if len(figures['per_seed']) > 1:
        each = ', '.join(f'{100 * rate:.0f}' for rate in figures['per_seed'])
        text += f" ±{100 * figures['spread']:.0f} ({each})"
    text += f' [{100 * low:.0f}-{100 * high:.0f}]'
    if reference is not None:
        if low > reference['wilson95'][1]:
            text += f' (>{REFERENCE})'
        elif high < reference['wilson95'][0]:
            text += f' (<{REFERENCE})'
    return text


def cells_by_condition(rows: Sequence[dict]) -> dict:
    """Return {(task, demos, shifted): {policy: pooled figures}}, with any row kept as 'row'."""
    grouped = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[(row['task'], row['demos'], row['shifted'])][row['policy']].append(row)
    return {key: {policy: {**pooled(seed_rows), 'row': seed_rows[0]}
                  for policy, seed_rows in by_policy.items()}
            for key, by_policy in grouped.items()}


def results_tables(rows: Sequence[dict], policies: Sequence[str]) -> str:
    """Return the markdown table: (task, demos, condition) rows x policy columns."""
    table = cells_by_condition(rows)
    header = '| task | demos | initial states | ' + ' | '.join(policies) + ' |'
    lines = [header, '|' + '---|' * (3 + len(policies))]
    order = sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1]))
    for (task, demos, shifted), by_policy in order:
        any_row = next(iter(by_policy.values()))['row']
        condition = (f"placement x{any_row['shift']['placement_scale']:g}" if shifted
                     else 'nominal')
        reference = by_policy.get(REFERENCE)
        cells = [cell(by_policy[p], reference if p != REFERENCE else None)
                 if p in by_policy else '-' for p in policies]
        lines.append(f'| {task} | {demos} | {condition} | ' + ' | '.join(cells) + ' |')
    episodes = sorted({row['episodes'] for row in rows})
    seeds = sorted({tuple(row['seeds']) for row in rows})
    lines.append('')
    lines.append(f'Success rate over {"/".join(map(str, episodes))} episodes per cell, '
                 f'[95% Wilson interval]; environment seeds '
                 + ', '.join(f'{a}..{b}' for a, b in seeds) + '. With several training '
                 'seeds: their mean, ± the spread across seeds, each seed, and the interval '
                 f'of all their episodes pooled; (>{REFERENCE}) or (<{REFERENCE}): that '
                 f'interval lies wholly above or below that of the {REFERENCE} column.')
    return '\n'.join(lines)


def latency_table(rows: Sequence[dict], policies: Sequence[str]) -> str:
    """Return median/p99 policy-step latency per policy, pooled over nominal evaluations."""
    lines = ['| policy | median ms (range over runs) | p99 ms (max over runs) |', '|---|---|---|']
    for policy in policies:
        lat = [r['latency'] for r in rows if r['policy'] == policy and r['latency']['steps']]
        if not lat:
            continue
        medians = [x['median_ms'] for x in lat]
        lines.append(f'| {policy} | {min(medians):.2f}-{max(medians):.2f} | '
                     f"{max(x['p99_ms'] for x in lat):.2f} |")
    return '\n'.join(lines)


def plot_success(rows: Sequence[dict], policies: Sequence[str], path: Path) -> Path:
    """Write success rate vs number of demonstrations, one panel per task, as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    nominal = [{**figures, 'task': task, 'demos': demos, 'policy': policy}
               for (task, demos, shifted), by_policy in cells_by_condition(rows).items()
               if not shifted for policy, figures in by_policy.items()]
    tasks = sorted({r['task'] for r in nominal})
    fig, axes = plt.subplots(1, max(1, len(tasks)), figsize=(4.2 * max(1, len(tasks)), 3.6),
                             squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for policy in policies:
            points = sorted((r['demos'], r['success_rate'], *r['wilson95']) for r in nominal
                            if r['task'] == task and r['policy'] == policy)
            if not points:
                continue
            demos, rate, low, high = (list(column) for column in zip(*points))
            errors = [[r - lo for r, lo in zip(rate, low)], [hi - r for r, hi in zip(rate, high)]]
            ax.errorbar(demos, rate, yerr=errors, marker='o', capsize=3, label=policy)
        ax.set_xscale('log')
        counts = sorted({r['demos'] for r in nominal if r['task'] == task})
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.minorticks_off()
        ax.set_title(task)
        ax.set_xlabel('demonstrations')
        ax.set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel('closed-loop success')
    axes[0][-1].legend(loc='lower right', fontsize='small')
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def update_results_md(md_path: Path, generated: str) -> None:
    """Replace the generated section of md_path (created with markers when missing)."""
    text = md_path.read_text() if md_path.exists() else f'# Results\n\n{BEGIN}\n{END}\n'
    if BEGIN not in text or END not in text:
        text = text.rstrip('\n') + f'\n\n{BEGIN}\n{END}\n'
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    md_path.write_text(f'{head}{BEGIN}\n{generated.strip()}\n{END}{tail}')
