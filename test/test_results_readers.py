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
The readers docs/RESULTS.md prints beside its tables still print those tables' figures.

They run on the committed JSON of docs/results/robosuite, so a change to a reader (or to
darp_ros.sim.paired, which they share) that moves a published figure fails here.
"""

from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
READERS = ROOT / 'docs' / 'results' / 'robosuite'


def reader(script: str, *args: str) -> list:
    """Run one reader from its folder, as RESULTS.md does; return its output lines."""
    done = subprocess.run([sys.executable, script, *args], cwd=READERS, capture_output=True,
                          text=True, check=True, timeout=120)
    return done.stdout.splitlines()


def test_paired_table_prints_the_published_can50_row():
    rows = reader('paired_table.py', 'scale_floor_can50')
    assert ('| PickPlaceCan | 50 | nominal | bc | 300 | 27 | 11 | 259 | p = 0.014 | '
            '+5 (11, 6, -1; 95% -10..+20) |') in rows


def test_shift_table_prints_rates_kept_shares_and_leads():
    rows = reader('shift_table.py', 'tuned_stack50', '--fill-from', 'scale_floor_stack50')
    assert '| Stack | 50 | darp | 79% | 66% | 0.83 | - | - |' in rows
    assert ('| Stack | 50 | bc | 66% | 46% | 0.71 | +14, +19 | '
            '+6 (14, -2, 5; 95% -14..+26) |') in rows
    # 1-NN exists only in the folder filled from (so the fill took effect), and its one
    # run is paired with each of DARP's three seeds.
    assert ('| Stack | 50 | nn1 | 28% | 23% | 0.82 | +51, +43 | '
            '-9 (-2, -12, -12; 95% -23..+6) |') in rows


def test_paired_runs_pairs_every_seed_with_one_run():
    rows = reader('paired_runs.py', 'tuned_finalists_confirmed/NutAssemblySquare/n50/darp',
                  'scale_floor/NutAssemblySquare/n50/nn1', '--b-seed', '0')
    assert ('| placement x1.5 | 500 | 138 | 92 | 103 | p = 0.003 | '
            '+9 (10, 20, 1, 15, 0; 95% -2..+20) |') in rows
