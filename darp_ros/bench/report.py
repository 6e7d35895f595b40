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


"""Markdown tables of `darp bench` results, and the command line that reproduces them."""

from typing import List

from darp_ros.bench.step_bench import STAGES, TOTALS

_FLAGS = (('index_sizes', '--index-size'), ('index_types', '--index-type'),
          ('device', '--device'), ('cameras', '--cameras'), ('image_size', '--image-size'),
          ('low_dim', '--low-dim'), ('policies', '--policies'), ('steps', '--steps'),
          ('warmup', '--warmup'), ('threads', '--threads'), ('recall_k', '--recall-k'),
          ('recall_queries', '--recall-queries'))


def command_line(report: dict) -> str:
    """Return the `darp bench` command that measures what report holds."""
    options = report.get('options', {})
    words = ['darp', 'bench']
    if report.get('model'):
        words += ['--model', str(report['model'])]
    if report.get('mode') == 'node':
        words += ['--node', '--rate', f"{report.get('rate_hz', 20.0):g}"]
    for name, flag in _FLAGS:
        if name not in options or (name.startswith('recall') and not options['recall_k']):
            continue
        value = options[name]
        if report.get('model') and name in ('policies', 'index_sizes', 'index_types'):
            continue
        if name == 'policies':
            words += [flag, ','.join(value)]
        elif isinstance(value, list):
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return ' '.join(words)


def _cell(stats: dict) -> str:
    return f"{stats['median_ms']:.3f} / {stats['p99_ms']:.3f}"


def _policy_table(run: dict) -> List[str]:
    names = list(STAGES) + list(TOTALS)
    lines = ['| policy | ' + ' | '.join(names) + ' |', '|---' * (len(names) + 1) + '|']
    for policy, result in run['policies'].items():
        cells = [_cell(result['stages'][s]) for s in STAGES]
        cells += [_cell(result['totals'][t]) for t in TOTALS]
        lines.append(f'| {policy} | ' + ' | '.join(cells) + ' |')
    return lines


def _recall_table(recall: dict) -> List[str]:
    lines = ['| index | device | build s | search median / p99 ms | recall@k | speed-up vs '
             'exact | worth it (>= 2x at recall >= 0.95) |', '|---' * 7 + '|']
    for name, row in recall.items():
        lines.append(f"| {name} | {row['device']} | {row['build_s']:.2f} | "
                     f"{_cell(row['search'])} | {row['recall_at_k']:.4f} (k={row['k']}) | "
                     f"{row['speedup']:.2f}x | {'yes' if row['worth_it'] else 'no'} |")
    return lines


def _node_table(report: dict) -> List[str]:
    lines = ['| policy | sets | in -> out median / p99 ms | max ms | missed cycles | '
             'node overruns | node holds | node inference median / p99 ms |',
             '|---' * 8 + '|']
    for policy, row in report['policies'].items():
        inference = row['node_inference']
        lines.append(f"| {policy} | {row['steps']} | {_cell(row['latency'])} | "
                     f"{row['latency']['max_ms']:.3f} | {row['missed_cycles']} | "
                     f"{row['node_overruns']} | {row['node_holds']} | "
                     f"{inference['median_ms']:.3f} / {inference['p99_ms']:.3f} |")
    return lines


def markdown(report: dict) -> str:
    """Return report as markdown: machine, command, then one table per run."""
    machine = report.get('machine', {})
    options = report.get('options', {})
    lines = [f"Machine: {machine.get('cpu')}, {machine.get('cores')} cores, GPU "
             f"{machine.get('gpu') or 'none'}, torch {machine.get('torch')}, faiss "
             f"{machine.get('faiss')}, load average at start "
             f"{', '.join(f'{v:.2f}' for v in machine.get('load_average', []))}; "
             f"{options.get('threads')} CPU thread(s), device {options.get('device')}.", '',
             f'Command: `{command_line(report)}`', '']
    if report.get('mode') == 'node':
        lines += [f"Index {report['index_size']} rows ({report['index_type']}), feature dim "
                  f"{report['feature_dim']}, {report['rate_hz']:g} Hz input sets.", '']
        return '\n'.join(lines + _node_table(report)) + '\n'
    lines.append('Per step, median / p99 in ms; stage p99s do not add up to the total p99.')
    for run in report['runs']:
        lines += ['', f"**{run['index_size']} rows, {run['index_type']} index on "
                  f"{run['index_device']}, feature dim {run['feature_dim']}**", '']
        lines += _policy_table(run)
        if run.get('ratios'):
            ratio_text = ', '.join(f'{k} {v:.2f}' for k, v in sorted(run['ratios'].items()))
            lines += ['', f'Ratios: {ratio_text}']
        if run.get('recall'):
            lines += [''] + _recall_table(run['recall'])
    return '\n'.join(lines) + '\n'
