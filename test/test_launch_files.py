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
The launch files and the shipped configs agree with the package.

launch_ros cannot be installed here, so the file is read as source: its executable must be
a console script of setup.py, its config names must be files in config/, the parameters it
sets must be the node's, and the default model must be a bundle every config can drive.
Where launch_ros is importable (a ROS 2 workstation) the description is also built.
"""

import ast
import importlib.util
from pathlib import Path

from darp_ros.control.node_config import check_against_bundle, node_config
from darp_ros.control.node_parameters import parameter_names, read_parameter_file
from darp_ros.core.bundle import read_manifest
from darp_ros.core.spec import ActionSpec, ObservationSpec
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = ROOT / 'launch' / 'policy.launch.py'
LAUNCH_FILES = (LAUNCH, ROOT / 'launch' / 'sim.launch.py')
CONFIGS = sorted((ROOT / 'config').glob('*.yaml'))
# Parameters every ROS 2 node has without declaring them.
ROS_PARAMETERS = {'use_sim_time'}


def launch_constants(path: Path = LAUNCH) -> dict:
    """Return a launch file's module-level constants, read without importing launch."""
    constants = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


def dict_keys(path: Path, name: str) -> set:
    """Return the keys of the dict a launch file assigns to name."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == name:
            return {ast.literal_eval(key) for key in node.value.keys}
    raise AssertionError(f'{path.name} has no {name} dict')


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_the_executables_are_console_scripts_with_a_main(path):
    constants = launch_constants(path)
    setup = (ROOT / 'setup.py').read_text()
    for executable in (constants['EXECUTABLE'], constants['BRIDGE_EXECUTABLE']):
        assert f"'{executable} = darp_ros.ros.{executable}:main'" in setup
        assert callable(importlib.import_module(f'darp_ros.ros.{executable}').main)


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_the_parameters_the_launch_files_set_are_declared_by_the_nodes(path):
    from darp_ros.sim.bridge_parameters import BRIDGE_PARAMETERS
    constants = launch_constants(path)
    assert dict_keys(path, 'overrides') == set(constants['LAUNCH_PARAMETERS'])
    assert set(constants['LAUNCH_PARAMETERS']) <= set(parameter_names()) | ROS_PARAMETERS
    bridge = dict_keys(path, 'bridge_parameters')
    assert bridge <= {spec.name for spec in BRIDGE_PARAMETERS} | ROS_PARAMETERS
    if 'BRIDGE_LAUNCH_PARAMETERS' in constants:
        assert bridge == set(constants['BRIDGE_LAUNCH_PARAMETERS'])


def test_the_configs_the_launch_file_names_exist():
    constants = launch_constants()
    for name in (constants['DEFAULT_ROBOT_CONFIG'], constants['SIM_CONFIG']):
        assert (ROOT / 'config' / f'{name}.yaml').is_file()
    assert launch_constants(LAUNCH_FILES[1])['SIM_CONFIG'] == constants['SIM_CONFIG']
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


@pytest.mark.parametrize('path, expected', [
    (LAUNCH, {'model_dir', 'robot_config', 'use_sim', 'namespace', 'record'}),
    (ROOT / 'launch' / 'sim.launch.py', {'model_dir', 'episodes', 'seed', 'mode'}),
], ids=['policy.launch.py', 'sim.launch.py'])
def test_the_launch_description_builds_where_launch_ros_is_installed(path, expected):
    pytest.importorskip('launch_ros')
    spec = importlib.util.spec_from_file_location(path.stem.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    assert expected <= {a.name for a in description.get_launch_arguments()}


def test_the_sim_launch_ends_when_the_bridge_ends():
    # The bridge exits after its episodes (test/ros/test_bridge_process.py): the launch must
    # shut down on that exit rather than leave the policy node running forever.
    calls = {node.func.id: node for node in ast.walk(ast.parse(LAUNCH_FILES[1].read_text()))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    handler = calls['OnProcessExit']
    keywords = {k.arg: k.value for k in handler.keywords}
    assert getattr(keywords['target_action'], 'id', '') == 'bridge'
    assert 'Shutdown' in ast.dump(keywords['on_exit'])
    assert 'RegisterEventHandler' in calls
