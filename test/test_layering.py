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
The layers: what each package of darp_ros may import, and rclpy only under darp_ros/ros.

cli -> ros -> sim, bench, bags -> control, data -> core. The control path (config, message
decoding, observation assembly, command pipeline, safety) must import without rclpy: bag
replay runs it where ROS is not installed.
"""

import ast
from pathlib import Path
import subprocess
import sys

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'darp_ros'
# Each package and the darp_ros packages it may import (itself included).
ALLOWED = {
    'core': {'core'},
    'data': {'data', 'core'},
    'control': {'control', 'core'},
    'bags': {'bags', 'control', 'data', 'core'},
    'bench': {'bench', 'control', 'core'},
    'sim': {'sim', 'data', 'control', 'core'},
    'ros': {'ros', 'sim', 'bench', 'bags', 'control', 'data', 'core'},
    'cli': {'cli', 'ros', 'sim', 'bench', 'bags', 'control', 'data', 'core'},
}


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_every_package_has_a_layer():
    packages = {p.parent.name for p in PACKAGE.glob('*/__init__.py')}
    assert packages == set(ALLOWED)


@pytest.mark.parametrize('package', sorted(ALLOWED))
def test_imports_only_run_down_the_layers(package):
    offenders = {}
    for path in (PACKAGE / package).rglob('*.py'):
        for module in imported_modules(path):
            parts = module.split('.')
            if parts[0] == 'darp_ros' and len(parts) > 1 and parts[1] not in ALLOWED[package]:
                offenders.setdefault(str(path.relative_to(PACKAGE)), []).append(module)
            if parts[0] == 'rclpy' and package != 'ros':
                offenders.setdefault(str(path.relative_to(PACKAGE)), []).append(module)
    assert offenders == {}


def test_the_control_path_and_the_core_load_no_ros_module():
    code = ('import sys, darp_ros.core.runtime, darp_ros.core.pipeline, darp_ros.data.hdf5, '
            'darp_ros.control.observation_assembler, darp_ros.control.command_pipeline, '
            'darp_ros.bags.evaluation; '
            'print([m for m in sys.modules if m.startswith(("rclpy", "rosidl"))])')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent).stdout
    assert out.strip() == '[]'
