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
The launch file and the shipped configs agree with the package.

launch_ros cannot be installed here, so the file is read as source: its executable must be
a console script of setup.py, its config names must be files in config/, the parameters it
sets must be the node's, and the default model must be a bundle every config can drive.
Where launch_ros is importable (a ROS 2 workstation) the description is also built.
"""

import ast
import importlib.util
from pathlib import Path

from darp_ros.core.bundle import read_manifest
from darp_ros.core.spec import ActionSpec, ObservationSpec
from darp_ros.data.node_config import check_against_bundle, node_config
from darp_ros.data.node_parameters import parameter_names, read_parameter_file
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = ROOT / 'launch' / 'policy.launch.py'
CONFIGS = sorted((ROOT / 'config').glob('*.yaml'))
# Parameters every ROS 2 node has without declaring them.
ROS_PARAMETERS = {'use_sim_time'}


def launch_constants() -> dict:
    """Return the launch file's module-level constants, read without importing launch."""
    constants = {}
    for node in ast.parse(LAUNCH.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


def overrides_keys() -> set:
    """Return the keys of the parameter dict the launch file passes to the node."""
    for node in ast.walk(ast.parse(LAUNCH.read_text())):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'overrides':
            return {ast.literal_eval(key) for key in node.value.keys}
    raise AssertionError('policy.launch.py has no overrides dict')


def test_the_executable_is_a_console_script_with_a_main():
    constants = launch_constants()
    setup = (ROOT / 'setup.py').read_text()
    entry = f"'{constants['EXECUTABLE']} = darp_ros.ros.policy_node:main'"
    assert entry in setup
    module = importlib.import_module('darp_ros.ros.policy_node')
    assert callable(module.main)


def test_the_parameters_the_launch_file_sets_are_declared_by_the_node():
    constants = launch_constants()
    assert overrides_keys() == set(constants['LAUNCH_PARAMETERS'])
    assert set(constants['LAUNCH_PARAMETERS']) <= set(parameter_names()) | ROS_PARAMETERS


def test_the_configs_the_launch_file_names_exist():
    constants = launch_constants()
    for name in (constants['DEFAULT_ROBOT_CONFIG'], constants['SIM_CONFIG']):
        assert (ROOT / 'config' / f'{name}.yaml').is_file()
    assert {'franka_fr3.yaml', 'franka_panda.yaml', 'sim.yaml'} <= {p.name for p in CONFIGS}


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_every_config_names_only_node_parameters(path):
    flat = read_parameter_file(path)
    known = set(parameter_names(flat.get('observation_keys', ()))) | ROS_PARAMETERS
    unknown = sorted(set(flat) - known)
    assert unknown == [], f'{path.name}: parameters the node does not declare: {unknown}'


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_every_config_drives_the_default_model(path):
    model = ROOT / 'models' / launch_constants()['DEFAULT_MODEL']
    manifest = read_manifest(model)
    config = node_config({**read_parameter_file(path), 'model_dir': str(model)})
    check_against_bundle(config, ObservationSpec.from_dict(manifest['observation']),
                         ActionSpec.from_dict(manifest['action']).dim)


def test_the_launch_description_builds_where_launch_ros_is_installed():
    pytest.importorskip('launch_ros')
    spec = importlib.util.spec_from_file_location('policy_launch', LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    arguments = {a.name for a in description.get_launch_arguments()}
    assert {'model_dir', 'robot_config', 'use_sim', 'namespace', 'record'} <= arguments
