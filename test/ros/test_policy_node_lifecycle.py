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


"""Lifecycle of the policy node: configure failures name the problem; cleanup releases."""

import subprocess
import sys
import time

import pytest
from ros_harness import (Graph, HOME, joint_msg, node_parameters, parameter_file, Probe,
                         transition, wait_for)


def configure_error(graph: Graph, capfd) -> str:
    """Trigger configure, expect it to fail, and return what the node logged to stderr."""
    capfd.readouterr()
    assert transition(graph.policy, 'configure') == 'unconfigured'
    return capfd.readouterr().err


@pytest.mark.parametrize('overrides, words', [
    ({'model_dir': '/nonexistent/bundle'}, '/nonexistent/bundle'),
    ({'observation_keys': ['joint_pos']}, 'do not match the bundle keys'),
    ({'obs.joint_pos.joints': ['a', 'b']}, 'yields 2 values'),
    ({'limits.velocity': [1.0] * 6}, 'velocity'),
    ({'command.relative_to': ['gripper']}, "command key 'gripper'"),
    ({'gripper.output': 'action', 'gripper.open_action': 'hand/move franka_msgs/action/Move'},
     'franka_msgs/action/Move cannot be imported'),
])
def test_bad_setup_fails_configure_with_a_clear_message(joint_bundle, overrides, words,
                                                        capfd):
    graph = Graph(node_parameters(joint_bundle, **overrides))
    try:
        error = configure_error(graph, capfd)
        assert 'configure failed' in error and words in error
    finally:
        graph.close()


def test_bad_bundle_file_fails_configure(joint_bundle, tmp_path, capfd):
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'bundle.json').write_text('{"format": "something else"}')
    graph = Graph(node_parameters(broken))
    try:
        assert 'not a darp_ros model bundle' in configure_error(graph, capfd)
    finally:
        graph.close()


def test_configure_cleanup_configure_activate_shutdown(joint_bundle):
    graph = Graph(node_parameters(joint_bundle))
    probe = Probe(graph)
    node = graph.policy
    try:
        assert transition(node, 'configure') == 'inactive'
        assert transition(node, 'cleanup') == 'unconfigured'
        assert node.runtime is None
        assert transition(node, 'configure') == 'inactive'
        assert transition(node, 'activate') == 'active'
        assert wait_for(lambda: len(probe.commands) >= 3, 10.0)
        assert transition(node, 'shutdown') == 'finalized'
        stopped = time.monotonic()
        time.sleep(0.3)
        assert probe.since(probe.commands, stopped + 0.1) == []
    finally:
        graph.close()


def test_executable_autostarts_from_a_parameter_file(joint_bundle, tmp_path):
    path = parameter_file(node_parameters(joint_bundle, autostart=True), tmp_path / 'params.yaml')
    graph = Graph(None)
    probe = Probe(graph)
    process = subprocess.Popen([sys.executable, '-m', 'darp_ros.ros.policy_node', '--ros-args',
                                '--params-file', path], stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: len(probe.commands) >= 5, 60.0)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
        graph.close()
    assert 'configured in' in err


def test_a_robot_outside_the_limits_is_never_commanded_until_it_is_back(joint_bundle, capfd):
    graph = Graph(node_parameters(joint_bundle))
    probe = Probe(graph)
    outside = HOME.copy()
    outside[3] = 0.3  # joint 4 must stay below -0.2
    probe.joints = lambda: joint_msg(outside)
    try:
        assert transition(graph.policy, 'configure') == 'inactive'
        capfd.readouterr()
        assert transition(graph.policy, 'activate') == 'active'
        start = time.monotonic()
        time.sleep(1.0)
        assert 'command rejected' in capfd.readouterr().err
        assert probe.since(probe.commands, start) == []
        probe.joints = joint_msg
        assert wait_for(lambda: len(probe.since(probe.commands, start)) >= 3, 5.0)
    finally:
        graph.close()
