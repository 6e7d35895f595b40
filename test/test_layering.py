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

"""The ROS-free core: nothing under darp_ros/core or darp_ros/data imports rclpy."""

import ast
from pathlib import Path
import subprocess
import sys

PACKAGE = Path(__file__).resolve().parents[1] / 'darp_ros'


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_core_and_data_sources_never_import_rclpy():
    sources = [p for layer in ('core', 'data') for p in (PACKAGE / layer).rglob('*.py')]
    offenders = [str(path) for path in sources
                 if any(m.split('.')[0] == 'rclpy' for m in imported_modules(path))]
    assert offenders == []


def test_importing_the_core_loads_no_ros_module():
    code = ('import sys, darp_ros.core.runtime, darp_ros.core.pipeline, darp_ros.data.hdf5; '
            'print([m for m in sys.modules if m.startswith(("rclpy", "rosidl"))])')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent).stdout
    assert out.strip() == '[]'
