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


"""The workstation requirements resolve for Jazzy's Python 3.12 and hold no ROS wheels."""

import json
from pathlib import Path
import re
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
WORKSTATION = ROOT / '.ci' / 'requirements-workstation.txt'


def pins(path: Path) -> dict:
    """Return {name: version} of the exact pins in a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r'^([A-Za-z0-9_.\-]+)==(\S+)', line.strip())
        if match:
            found[match.group(1).lower().replace('_', '-')] = match.group(2)
    return found


def test_workstation_pins_match_ci_and_leave_ros_to_the_system():
    workstation, ci = pins(WORKSTATION), pins(ROOT / '.ci' / 'requirements.txt')
    assert workstation and not [n for n in workstation if n.startswith('ros-')]
    assert {n: v for n, v in workstation.items() if ci.get(n) != v} == {}


def test_workstation_requirements_resolve_for_python_3_12(tmp_path):
    # pip's resolver against the package index, for another interpreter: nothing installed.
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--dry-run', '--ignore-installed', '--quiet',
         '--target', str(tmp_path / 'target'), '--python-version', '3.12',
         '--only-binary=:all:', '--report', str(tmp_path / 'report.json'),
         '-r', str(WORKSTATION)],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]

    names = {item['metadata']['name'].lower()
             for item in json.loads((tmp_path / 'report.json').read_text())['install']}
    assert {'torch', 'faiss-gpu', 'robosuite', 'mujoco'} <= names
    assert not [n for n in names if n.startswith('ros-')]
