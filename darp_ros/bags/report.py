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
The report directory of `darp bag-eval`: the figures as JSON, every tick as CSV, and plots.

commands.png shows, per command element, what the new model would have commanded (after
the safety layer; where it clipped, the model's own value dotted) beside what was recorded;
novelty.png shows how far each observation was from the demonstrations, and how old the
inputs were, over the recording. The directory is written under a
temporary name and moved into place, so a failed run leaves nothing half-written.
"""

import csv
import json
import os
from pathlib import Path
import shutil
import tempfile
from typing import List, Optional

from darp_ros.bags.evaluation import BagEvalReport
from darp_ros.core.errors import ConfigError
from matplotlib.figure import Figure
import numpy as np

FILES = ('report.json', 'steps.csv', 'commands.png', 'novelty.png')


def write_report(report: BagEvalReport, directory) -> Path:
    """Write report.json, steps.csv, commands.png and novelty.png into a new directory."""
    target = Path(directory)
    if target.exists():
        raise ConfigError(f'{target} exists; give a new --report directory')
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f'.{target.name}.', dir=target.parent))
    try:
        (staging / 'report.json').write_text(json.dumps(report.to_dict(), indent=2) + '\n')
        _write_steps(report, staging / 'steps.csv')
        _plot_commands(report, staging / 'commands.png')
        _plot_novelty(report, staging / 'novelty.png')
        # mkdtemp makes the folder private (0700); the report is an ordinary folder.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _matrix(rows: List[Optional[np.ndarray]], width: int) -> np.ndarray:
    """Return rows stacked into (T, width), NaN where a row is missing or of another width."""
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        if row is not None and len(row) == width:
            out[i] = row
    return out


def _width(report: BagEvalReport) -> int:
    return max((len(c) for c in report.commands + report.recorded if c is not None), default=0)


def _column(values: List[Optional[float]]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], float)


def _write_steps(report: BagEvalReport, path: Path) -> None:
    width = _width(report)
    new, old = _matrix(report.commands, width), _matrix(report.recorded, width)
    asked = _matrix(report.requested, width)
    with open(path, 'w', newline='') as handle:
        writer = csv.writer(handle)
        writer.writerow(['time_s', 'novelty', 'input_age_s']
                        + [f'command_{j}' for j in range(width)]
                        + [f'recorded_{j}' for j in range(width)]
                        + [f'before_safety_{j}' for j in range(width)])
        for i, t in enumerate(report.times_s):
            cells = [t, report.novelty[i], report.input_age_s[i], *new[i], *old[i], *asked[i]]
            writer.writerow(['' if c is None or c != c else f'{c:.9g}' for c in cells])


def _plot_commands(report: BagEvalReport, path: Path) -> None:
    width = max(_width(report), 1)
    times = np.asarray(report.times_s) - (report.times_s[0] if report.times_s else 0.0)
    new, old = _matrix(report.commands, width), _matrix(report.recorded, width)
    asked = _matrix(report.requested, width)
    figure = Figure(figsize=(9, 1.8 * width + 0.8), layout='constrained')
    axes = figure.subplots(width, 1, sharex=True, squeeze=False)[:, 0]
    for j, ax in enumerate(axes):
        if np.isfinite(old[:, j]).any():
            ax.plot(times, old[:, j], color='0.55', lw=1.6, label='recorded')
        clipped = np.where(np.isclose(asked[:, j], new[:, j]), np.nan, asked[:, j])
        if np.isfinite(clipped).any():
            ax.plot(times, clipped, color='tab:red', ls=':', lw=1.0,
                    label='new model before safety')
        ax.plot(times, new[:, j], color='tab:blue', lw=1.0, label='new model')
        ax.set_ylabel(f'command[{j}]')
        ax.grid(alpha=0.3)
    # One legend for every line drawn in any panel (a clipped line may be in one only).
    labelled = {}
    for ax in axes:
        for line in ax.get_lines():
            labelled.setdefault(line.get_label(), line)
    figure.legend(list(labelled.values()), list(labelled.keys()), loc='outside upper right',
                  fontsize='small', ncols=len(labelled))
    axes[0].set_title(f'{Path(report.model).name} on {Path(report.bag).name} (open loop)')
    axes[-1].set_xlabel('time since the first tick (s)')
    figure.savefig(path, dpi=100)


def _plot_novelty(report: BagEvalReport, path: Path) -> None:
    times = np.asarray(report.times_s) - (report.times_s[0] if report.times_s else 0.0)
    figure = Figure(figsize=(9, 4.5), layout='constrained')
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.plot(times, _column(report.novelty), color='tab:orange', lw=1.0)
    top.axhline(1.0, color='0.5', ls='--', lw=0.8)
    top.set_ylabel('novelty\n(x typical demo spacing)')
    top.set_title('distance to the nearest demonstration state')
    bottom.plot(times, _column(report.input_age_s), color='tab:green', lw=1.0)
    bottom.set_ylabel('oldest input (s)')
    bottom.set_xlabel('time since the first tick (s)')
    for ax, values in ((top, _column(report.novelty)), (bottom, _column(report.input_age_s))):
        ax.grid(alpha=0.3)
        # A near-constant series would get an axis of its own round-off (offset 1e-9).
        ax.ticklabel_format(axis='y', useOffset=False)
        finite = values[np.isfinite(values)]
        if finite.size and np.ptp(finite) < 1e-6 * max(1.0, float(np.abs(finite).max())):
            centre = float(finite.mean())
            ax.set_ylim(centre - max(0.05 * abs(centre), 0.05), centre + max(0.05 * abs(centre),
                                                                             0.05))
    figure.savefig(path, dpi=100)
