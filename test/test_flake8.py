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

"""ament's flake8 check, as `colcon test` runs it; skipped where ament_flake8 is absent."""

from pathlib import Path
import subprocess
import sys

import pytest

pytest.importorskip('ament_flake8.main')

# Only the package's own files: a virtual environment inside the checkout is not ours.
ROOT = Path(__file__).resolve().parents[1]
SOURCES = [str(ROOT / p) for p in ('darp_ros', 'test', 'launch', 'setup.py')]
# In a process of its own: flake8 forks workers, and a fork of this test process, after the
# ROS tests, can crash collecting rclpy's objects (seen: workers segfaulting, the pool hung).
RUN = 'import sys; from ament_flake8.main import main; sys.exit(main(sys.argv[1:]))'


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    result = subprocess.run([sys.executable, '-c', RUN, *SOURCES], capture_output=True,
                            text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, f'code style errors / warnings:\n{result.stdout}{result.stderr}'
