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
The closed loop through ROS 2: the robosuite bridge and the policy node over real DDS.

In lockstep the loop must reproduce the in-process evaluation action for action (same
seeds, same initial states, same policy object), run the same twice, and survive malformed
commands. Uses the shipped Lift bundle and config/sim.yaml, with a short horizon.
"""

import json
from pathlib import Path
import threading
import time

from darp_ros.control.node_parameters import read_parameter_file
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.sim.session import SimSession
from darp_ros.sim.sources import env_args_from
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseStamped
import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_harness import wait_for
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64MultiArray
from std_srvs.srv import Trigger

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / 'models' / 'lift_darp'
HORIZON = 25


class SimGraph:
    """A bridge, optionally the policy node, and a probe, spinning in one executor."""

    def __init__(self, bridge_params: dict, with_policy: bool = True):
        from darp_ros.ros.policy_node import PolicyNode
        from darp_ros.ros.robosuite_bridge_node import RobosuiteBridge
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.bridge = RobosuiteBridge(context=self.context, parameter_overrides=[
            Parameter(k, value=v) for k, v in bridge_params.items()])
        self.nodes = [self.bridge]
        if with_policy:
            params = read_parameter_file(ROOT / 'config' / 'sim.yaml')
            params.update({'model_dir': str(MODEL), 'device': 'cpu'})
            self.policy = PolicyNode(context=self.context, parameter_overrides=[
                Parameter(k, value=v) for k, v in params.items()])
            self.nodes.append(self.policy)
        self.probe = rclpy.create_node('sim_probe', context=self.context)
        self.nodes.append(self.probe)
        self.executor = SingleThreadedExecutor(context=self.context)
        for node in self.nodes:
            self.executor.add_node(node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def run(self, timeout: float = 120.0) -> None:
        """Activate the policy node (if any), run the bridge's episodes, wait for the end."""
        if len(self.nodes) == 3:
            self.policy.trigger_configure()
            self.policy.trigger_activate()
        self.bridge.start()
        assert self.bridge.finished.wait(timeout)

    def close(self) -> None:
        """Stop the bridge and tear everything down."""
        self.bridge.stop()
        self.executor.shutdown(timeout_sec=2.0)
        for node in self.nodes:
            node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def bridge_params(**extra) -> dict:
    """Return bridge parameters for short lockstep Lift episodes from the shipped bundle."""
    return {'env_from': str(MODEL), 'seed': 100000, 'episodes': 2, 'horizon': HORIZON,
            'use_sim_time': True, **extra}


def in_process_actions(seeds) -> np.ndarray:
    """Return the actions the runtime object takes in-process for seeds, clipped as applied."""
    runtime = PolicyRuntime.load(MODEL, 'cpu')
    session = SimSession(env_args_from(str(MODEL)), horizon=HORIZON)
    keys = runtime.obs_spec.names
    actions = []
    for seed in seeds:
        runtime.reset()
        obs = session.reset(seed)
        while not session.status().done:
            action = np.clip(runtime.act({k: obs[k] for k in keys}), -1.0, 1.0)
            actions.append(action)
            obs = session.step(action)
    return np.array(actions)


@pytest.fixture(scope='module')
def loop():
    """Return a finished two-episode lockstep run, with what a probe heard on the way."""
    graph = SimGraph(bridge_params())
    heard = {'joints': [], 'eef': [], 'object': [], 'episode': []}
    probe = graph.probe
    probe.create_subscription(JointState, 'sim/joint_states', heard['joints'].append, 100)
    probe.create_subscription(PoseStamped, 'sim/eef_pose', heard['eef'].append, 100)
    probe.create_subscription(JointState, 'sim/object_state', heard['object'].append, 100)
    probe.create_subscription(DiagnosticStatus, 'sim/episode', heard['episode'].append,
                              QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                                         durability=DurabilityPolicy.TRANSIENT_LOCAL))
    try:
        graph.run()
        assert wait_for(lambda: len(heard['episode']) == 2, 5.0)
        yield graph, heard
    finally:
        graph.close()


def test_lockstep_loop_reproduces_the_in_process_evaluation(loop):
    graph, heard = loop
    expected = in_process_actions([100000, 100001])
    applied = np.array(graph.bridge.actions)
    assert applied.shape == expected.shape
    np.testing.assert_allclose(applied, expected, atol=1e-4)
    assert [o['seed'] for o in graph.bridge.outcomes] == [100000, 100001]


def test_messages_carry_real_names_and_sim_time_stamps(loop):
    graph, heard = loop
    joints = heard['joints'][-1]
    assert joints.name == [f'robot0_joint{i}' for i in range(1, 8)] + \
        ['gripper0_right_finger_joint1', 'gripper0_right_finger_joint2']
    assert len(joints.position) == len(joints.velocity) == 9
    stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in heard['eef']]
    steps = np.diff(sorted(set(stamps)))
    np.testing.assert_allclose(steps, 0.05, atol=1e-6)  # one control period per step
    assert heard['object'][-1].name[:2] == ['object_0', 'object_1']
    outcome = {kv.key: kv.value for kv in heard['episode'][0].values}
    assert outcome['seed'] == '100000' and outcome['horizon'] == str(HORIZON)


def test_lockstep_is_deterministic(loop):
    graph, heard = loop
    # The first loop's policy node shares names and topics with the second's: it must not
    # answer the second bridge's observations (whose sim time starts over).
    graph.policy.trigger_deactivate()
    again = SimGraph(bridge_params())
    try:
        again.run()
        np.testing.assert_array_equal(np.array(again.bridge.actions),
                                      np.array(graph.bridge.actions))
    finally:
        again.close()


def test_malformed_commands_are_rejected_and_the_bridge_runs_on(capfd):
    graph = SimGraph(bridge_params(episodes=1, horizon=3), with_policy=False)
    publisher = graph.probe.create_publisher(Float64MultiArray, 'sim/action', 10)
    try:
        graph.bridge.start()
        assert wait_for(lambda: publisher.get_subscription_count() > 0, 5.0)
        for count, data in enumerate(([0.0] * 6, [0.0] * 6 + [float('nan')]), 1):
            publisher.publish(Float64MultiArray(data=data))
            assert wait_for(lambda: graph.bridge.rejected_commands == count, 5.0)
            time.sleep(1.1)  # rejections are logged at most once per second
        assert graph.bridge.session.steps == 0
        for _ in range(3):
            steps = graph.bridge.session.steps
            publisher.publish(Float64MultiArray(data=[0.0] * 7))
            assert wait_for(lambda: graph.bridge.session.steps > steps or
                            graph.bridge.finished.is_set(), 5.0)
        assert graph.bridge.finished.wait(5.0)
        err = capfd.readouterr().err
        assert 'action has 6 values, the environment takes 7' in err
        assert 'NaN' in err
    finally:
        graph.close()


def test_reset_service_starts_the_seed_asked_for():
    graph = SimGraph(bridge_params(episodes=2, horizon=50), with_policy=False)
    client = graph.probe.create_client(Trigger, 'robosuite_bridge/reset')
    try:
        graph.bridge.start()
        assert client.wait_for_service(timeout_sec=5.0)
        graph.bridge.set_parameters([Parameter('next_seed', value=123)])
        future = client.call_async(Trigger.Request())
        assert wait_for(future.done, 5.0) and future.result().success
        assert wait_for(lambda: graph.bridge.session.seed == 123, 5.0)
    finally:
        graph.close()


def test_cameras_are_published_upright_as_rgb8():
    graph = SimGraph({'task': 'Lift', 'cameras': ['agentview'], 'image_size': 32,
                      'episodes': 1, 'horizon': 2, 'use_sim_time': True}, with_policy=False)
    images = []
    graph.probe.create_subscription(Image, 'sim/agentview/image', images.append, 10)
    try:
        graph.bridge.start()
        assert wait_for(lambda: len(images) >= 1, 30.0)
        image = images[0]
        assert (image.encoding, image.height, image.width, image.step) == ('rgb8', 32, 32, 96)
        pixels = np.frombuffer(bytes(image.data), np.uint8).reshape(32, 32, 3)
        expected = graph.bridge.session.obs['agentview_image']
        np.testing.assert_array_equal(pixels, expected)
    finally:
        graph.close()


def test_darp_sim_prints_and_writes_the_figures(tmp_path, capsys):
    from darp_ros.cli.main import main
    out = tmp_path / 'sim.json'
    assert main(['sim', '--model', str(MODEL), '--episodes', '2', '--seed', '100000',
                 '--horizon', '10', '--json', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'darp on Lift: success' in printed
    assert 'observation -> command latency through DDS' in printed
    figures = json.loads(out.read_text())
    assert figures['episodes'] == 2 and figures['seeds'] == [100000, 100001]
    assert figures['transport'] == 'ros2 (lockstep)' and figures['latency']['steps'] > 0


def test_realtime_steps_at_the_control_rate_and_counts_late_commands():
    graph = SimGraph(bridge_params(episodes=1, horizon=6, mode='realtime'), with_policy=False)
    try:
        start = time.monotonic()
        graph.run(timeout=10.0)
        took = time.monotonic() - start
        assert graph.bridge.outcomes[0]['steps'] == 6
        assert graph.bridge.late_steps == 6  # nobody commanded: every step reused the hold
        assert took >= 6 * 0.05 * 0.9
    finally:
        graph.close()


def test_each_episode_starts_the_policy_history_anew():
    graph = SimGraph(bridge_params(episodes=2, horizon=5))
    try:
        graph.policy.trigger_configure()
        runtime, resets = graph.policy.runtime, []
        forget = runtime.reset
        runtime.reset = lambda: (resets.append(time.monotonic()), forget())
        assert graph.bridge._policy_reset.wait_for_service(timeout_sec=5.0)
        graph.policy.trigger_activate()      # one reset
        graph.bridge.start()                 # and one before each episode
        assert graph.bridge.finished.wait(120.0)
        assert len(resets) == 3
    finally:
        graph.close()
