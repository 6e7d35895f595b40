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
from typing import Sequence

BEGIN, END = '<!-- results:begin -->', '<!-- results:end -->'


def cell(row: dict) -> str:
    """Return 'rate% [low-high]' for one evaluation."""
    low, high = row['wilson95']
    return (f"{100 * row['success_rate']:.0f}% [{100 * low:.0f}-{100 * high:.0f}]")


def results_tables(rows: Sequence[dict], policies: Sequence[str]) -> str:
    """Return the markdown table: (task, demos, condition) rows x policy columns."""
    table = defaultdict(dict)
    for row in rows:
        table[(row['task'], row['demos'], row['shifted'])][row['policy']] = row
    header = '| task | demos | initial states | ' + ' | '.join(policies) + ' |'
    lines = [header, '|' + '---|' * (3 + len(policies))]
    order = sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1]))
    for (task, demos, shifted), by_policy in order:
        any_row = next(iter(by_policy.values()))
        condition = (f"placement x{any_row['shift']['placement_scale']:g}" if shifted
                     else 'nominal')
        cells = [cell(by_policy[p]) if p in by_policy else '-' for p in policies]
        lines.append(f'| {task} | {demos} | {condition} | ' + ' | '.join(cells) + ' |')
    episodes = sorted({row['episodes'] for row in rows})
    seeds = sorted({tuple(row['seeds']) for row in rows})
    lines.append('')
    lines.append(f'Success rate over {"/".join(map(str, episodes))} episodes per cell, '
                 f'[95% Wilson interval]; environment seeds '
                 + ', '.join(f'{a}..{b}' for a, b in seeds) + '.')
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
    nominal = [r for r in rows if not r['shifted']]
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
