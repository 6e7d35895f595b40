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


"""What an adversarial operator tried on the node: refused requests, signals, resumes."""

import signal
import subprocess
import sys
import time

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
import numpy as np
import pytest
from rcl_interfaces.msg import Parameter as ParameterMsg, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from ros_harness import (active_graph, Graph, HOME, IMAGE, image_msg, joint_msg, JOINTS,
                         node_parameters, parameter_file, Probe, RATE_HZ, transition, wait_for)
from std_msgs.msg import Float64MultiArray
from std_srvs.srv import Trigger


@pytest.fixture
def active(joint_bundle):
    """Return (graph, probe) with the node commanding."""
    graph, probe = active_graph(node_parameters(joint_bundle))
    yield graph, probe
    graph.close()


def call(graph: Graph, kind, name: str, request, timeout: float = 5.0):
    """Call a service of the node over DDS from a node of its own; return the response."""
    caller = rclpy.create_node('caller', context=graph.context)
    executor = SingleThreadedExecutor(context=graph.context)
    try:
        client = caller.create_client(kind, name)
        assert client.wait_for_service(timeout_sec=timeout), name
        # The server can see the request before its reply writer has matched this client
        # (a known Fast DDS discovery race): give discovery a moment.
        time.sleep(0.5)
        future = client.call_async(request)
        rclpy.spin_until_future_complete(caller, future, executor, timeout_sec=timeout)
        assert future.done(), f'{name} did not answer'
        return future.result()
    finally:
        executor.shutdown()
        caller.destroy_node()


def still_commanding(probe: Probe) -> bool:
    """Return whether new actions (not holds) keep coming."""
    start = time.monotonic()
    return wait_for(lambda: len(probe.since(probe.actions, start)) >= 3, 3.0)


@pytest.mark.parametrize('transition_id', [Transition.TRANSITION_ACTIVATE,
                                           Transition.TRANSITION_CONFIGURE,
                                           Transition.TRANSITION_CLEANUP])
def test_a_refused_lifecycle_request_is_answered_and_the_node_goes_on(active, transition_id):
    graph, probe = active
    start = time.monotonic()
    request = ChangeState.Request(transition=Transition(id=transition_id))
    assert call(graph, ChangeState, '/policy_node/change_state', request).success is False
    assert graph.policy._state_machine.current_state[1] == 'active'
    assert still_commanding(probe)
    assert any('refused lifecycle transition' in w for w in probe.warnings_since(start))


def test_use_sim_time_cannot_be_switched_on_while_configured(active):
    graph, probe = active
    value = ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=True)
    request = SetParameters.Request(parameters=[ParameterMsg(name='use_sim_time', value=value)])
    result = call(graph, SetParameters, '/policy_node/set_parameters', request).results[0]
    assert not result.successful and 'use_sim_time' in result.reason
    assert graph.policy.get_parameter('use_sim_time').value is False
    assert still_commanding(probe)


def test_max_input_age_set_at_runtime_takes_effect(active):
    graph, probe = active
    value = ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=0.01)
    request = SetParameters.Request(parameters=[ParameterMsg(name='max_input_age_s',
                                                             value=value)])
    start = time.monotonic()
    assert call(graph, SetParameters, '/policy_node/set_parameters', request).results[0].successful
    # Inputs come every 20 ms: with 10 ms allowed they are stale most of the time.
    assert wait_for(lambda: any('stale' in w for w in probe.warnings_since(start)), 3.0)


def test_a_second_publisher_on_the_command_topic_is_reported(active):
    graph, probe = active
    start = time.monotonic()
    rogue = probe.node.create_publisher(Float64MultiArray, '/test/command', 10)
    try:
        assert wait_for(lambda: any('other publisher' in w for w in probe.warnings_since(start)),
                        5.0)
    finally:
        probe.node.destroy_publisher(rogue)


def test_a_new_kind_of_fault_is_named_at_once_despite_the_throttle(active):
    graph, probe = active
    good_joints, good_image = probe.joints, probe.image
    start = time.monotonic()
    try:
        probe.joints = lambda: joint_msg(np.where(np.arange(7) == 2, np.nan, HOME))
        assert wait_for(lambda: any('fr3_joint3' in w for w in probe.warnings_since(start)), 3.0)
        probe.joints = good_joints
        switched = time.monotonic()
        probe.image = lambda: image_msg(np.zeros((IMAGE + 8, IMAGE, 3), np.uint8))
        # Within the one-second throttle of the first fault, the second is named anyway.
        assert wait_for(lambda: any('expects' in w for w in probe.warnings_since(switched)),
                        0.8)
    finally:
        probe.joints, probe.image = good_joints, good_image
    assert still_commanding(probe)


def test_stamps_that_go_back_hold_and_say_so(active):
    graph, probe = active
    good = probe.joints
    start = time.monotonic()

    def late():   # each message stamped 0.3 s before the one the node last accepted
        msg = joint_msg()
        now = probe.node.get_clock().now().nanoseconds * 1e-9 - 0.3
        msg.header.stamp.sec, msg.header.stamp.nanosec = int(now), int(now % 1 * 1e9)
        return msg
    probe.joints = late
    try:
        assert wait_for(lambda: any('stamp went back' in w
                                    for w in probe.warnings_since(start)), 3.0)
    finally:
        probe.joints = good
    assert still_commanding(probe)


def test_resume_starts_from_the_measured_state_not_the_last_command(active):
    graph, probe = active
    max_step = 0.05
    probe.paused = True            # inputs go stale: the node holds
    time.sleep(1.0)
    moved = HOME.copy()
    moved[0] += 0.4                # meanwhile the arm was pushed
    probe.joints = lambda: joint_msg(moved)
    resumed = time.monotonic()
    probe.paused = False
    assert wait_for(lambda: len(probe.since(probe.actions, resumed)) >= 3, 5.0)
    time.sleep(0.2)
    first = np.array(probe.since(probe.actions, resumed)[0].data)
    # Every command after resuming is a hold near the old command or starts at the arm:
    # none crawls from the old command towards the new measurement.
    joint0 = np.array([c.data[0] for c in probe.since(probe.commands, resumed)])
    crawling = joint0[(joint0 > HOME[0] + 0.1) & (joint0 < moved[0] - 0.1 - max_step)]
    assert crawling.size == 0, (joint0, first)


def velocity_graph(bundle, **overrides):
    """Return (graph, probe): joint velocity commands, braking 0.025 rad/s per cycle at most."""
    values = node_parameters(bundle, **{'command.type': 'joint_velocity',
                                        'command.scale': [3.0] * 7,
                                        'limits.acceleration': [0.5] * 7}, **overrides)
    del values['command.relative_to']
    graph, probe = active_graph(values)
    # Moving fast enough that a stop takes several cycles, so one hold would not be one.
    assert wait_for(lambda: np.abs(probe.commands[-1][1].data).max() > 0.15, 5.0)
    return graph, probe


VELOCITY_STEP = 0.5 / RATE_HZ       # the acceleration limit over one period


def test_deactivate_brakes_a_velocity_command_to_zero_within_the_limits(joint_bundle):
    graph, probe = velocity_graph(joint_bundle)
    try:
        start = time.monotonic()
        assert transition(graph.policy, 'deactivate') == 'inactive'
        time.sleep(0.3)
        values = np.array([c.data for c in probe.since(probe.commands, start - 1.0)])
        quiet_from = time.monotonic()
        time.sleep(0.2)
        assert probe.since(probe.commands, quiet_from) == []
    finally:
        graph.close()
    # A velocity controller keeps the last command: it must be zero, reached step by step.
    assert np.abs(values[-1]).max() == 0.0
    assert np.abs(np.diff(values, axis=0)).max() <= VELOCITY_STEP + 1e-9


def test_a_short_fault_while_moving_brakes_and_resumes_without_a_jump(joint_bundle):
    graph, probe = velocity_graph(joint_bundle, max_input_age_s=0.15)
    try:
        start = time.monotonic()
        probe.paused = True
        time.sleep(0.25)            # stale for about 0.1 s: two holds, far from rest
        probe.paused = False
        assert wait_for(lambda: len(probe.since(probe.actions, start + 0.25)) >= 5, 5.0)
        values = np.array([c.data for c in probe.since(probe.commands, start - 0.5)])
        assert any('stale' in w for w in probe.warnings_since(start))
        # 'silent' would leave this arm moving at its last velocity through every fault.
        refused = graph.policy.set_parameters([Parameter('fault_behavior', value='silent')])[0]
        assert not refused.successful and 'keep moving' in refused.reason
        assert graph.policy.config.fault_behavior == 'hold'
    finally:
        graph.close()
    assert np.abs(np.diff(values, axis=0)).max() <= VELOCITY_STEP + 1e-9


def test_a_reset_while_moving_brakes_before_starting_again(joint_bundle):
    graph, probe = velocity_graph(joint_bundle)
    try:
        start = time.monotonic()
        response = call(graph, Trigger, '/policy_node/reset', Trigger.Request())
        assert response.success and 'braked to rest' in response.message, response.message
        assert wait_for(lambda: len(probe.since(probe.commands, start)) >= 40, 5.0)
        values = np.array([c.data for c in probe.since(probe.commands, start - 0.5)])
    finally:
        graph.close()
    # Restarting from the measured state at rest without braking drops the velocity at once.
    assert (np.abs(values).max(axis=1) == 0.0).any()
    assert np.abs(np.diff(values, axis=0)).max() <= VELOCITY_STEP + 1e-9


@pytest.mark.parametrize('changes, words', [
    ({'command.topic': 'bad topic'}, 'bad topic'),      # refused inside rclpy
    ({'command.type': 'joint_trajectory', 'command.joint_names': list(JOINTS),
      'command.time_from_start_s': 0.01}, 'shorter than the control period'),
])
def test_a_configure_that_fails_says_why_and_releases(joint_bundle, changes, words):
    graph = Graph(node_parameters(joint_bundle, **changes))
    probe = Probe(graph)
    probe.wait_connected()
    start = time.monotonic()
    try:
        assert transition(graph.policy, 'configure') == 'unconfigured'
        assert wait_for(lambda: any('configure failed' in w and words in w
                                    for w in probe.warnings_since(start)), 3.0)
        assert graph.policy.runtime is None and graph.policy.inference is None
    finally:
        graph.close()


def test_activation_waits_for_inputs_newer_than_itself(active):
    graph, probe = active
    probe.paused = True
    assert transition(graph.policy, 'deactivate') == 'inactive'
    start = time.monotonic()
    assert transition(graph.policy, 'activate') == 'active'
    try:
        # The cached joint state is younger than max_input_age_s, but from before the
        # deactivation's braking: nothing may be commanded from it.
        assert wait_for(lambda: any('no message yet' in w for w in probe.warnings_since(start)),
                        3.0)
        assert probe.since(probe.actions, start) == []
    finally:
        probe.paused = False
    assert still_commanding(probe)


def test_inputs_that_go_stale_during_a_slow_inference_hold(active):
    graph, probe = active
    node = graph.policy
    step = node.runtime.step

    def slow_step(obs):        # the real step, on a machine too slow for its inputs
        time.sleep(0.6)
        return step(obs)
    # A deadline of a second lets the step finish: the inputs' age must still be checked.
    assert node.set_parameters([Parameter('max_step_time_s', value=1.0)])[0].successful
    start = time.monotonic()
    node.runtime.step = slow_step
    try:
        assert wait_for(lambda: any('stale at publish' in w
                                    for w in probe.warnings_since(start)), 5.0)
        assert probe.since(probe.actions, start + 0.7) == []
    finally:
        node.runtime.step = step
    assert still_commanding(probe)


def test_a_measured_state_outside_the_limits_holds_and_says_why(active):
    graph, probe = active
    outside = HOME.copy()
    outside[3] = 0.3  # joint 4 must stay below -0.2
    start = time.monotonic()
    probe.joints = lambda: joint_msg(outside)
    try:
        assert wait_for(lambda: any('outside the limits' in w
                                    for w in probe.warnings_since(start)), 3.0)
        time.sleep(0.3)
        held_from = time.monotonic()
        time.sleep(0.5)
        assert probe.since(probe.actions, held_from + 0.1) == []
        holds = probe.since(probe.commands, held_from)
        assert len(holds) >= 0.5 * 0.5 * RATE_HZ
        assert all(c.data[3] <= -0.2 for c in holds)
    finally:
        probe.joints = joint_msg
    assert still_commanding(probe)


def test_reset_service_clears_the_history_and_keeps_commanding(active):
    graph, probe = active
    runtime, resets = graph.policy.runtime, []
    forget = runtime.reset
    runtime.reset = lambda: (resets.append(time.monotonic()), forget())
    response = call(graph, Trigger, '/policy_node/reset', Trigger.Request())
    assert response.success, response.message
    assert len(resets) == 1
    assert still_commanding(probe)


def test_commands_are_limited_by_the_time_actually_elapsed(active):
    graph, probe = active
    node = graph.policy
    with node._output_lock:  # no command goes out meanwhile
        node._publish_command(node._last_command)
        assert node._command_dt() < 0.01          # a command right after another
        time.sleep(0.2)
        assert node._command_dt() == pytest.approx(1.0 / RATE_HZ)   # never more than a period


def test_the_novelty_guard_holds_off_the_demonstrations_and_resumes(joint_bundle):
    # The test picture reads about 5 on the novelty scale, a white frame about 44.
    graph = Graph(node_parameters(joint_bundle, **{'novelty_guard.hold_above': 20.0}))
    probe = Probe(graph)
    probe.wait_connected()
    good = probe.image
    try:
        assert transition(graph.policy, 'configure') == 'inactive'
        assert transition(graph.policy, 'activate') == 'active'
        assert still_commanding(probe)
        start = time.monotonic()
        probe.image = lambda: image_msg(np.full((IMAGE, IMAGE, 3), 255, np.uint8))
        assert wait_for(lambda: any('novelty guard' in w for w in probe.warnings_since(start)),
                        3.0)
        held_from = time.monotonic() + 0.2
        time.sleep(0.7)
        assert probe.since(probe.actions, held_from) == []
        assert len(probe.since(probe.commands, held_from)) >= 0.5 * 0.5 * RATE_HZ
        assert max(m.data for m in probe.since(probe.novelty, held_from)) > 20.0
        probe.image = good
        assert still_commanding(probe)
    finally:
        graph.close()


FLOODER = """
import sys, time
import rclpy
from sensor_msgs.msg import JointState
rclpy.init()
node = rclpy.create_node('flooder')
publisher = node.create_publisher(JointState, '/test/joint_states', 10)
names, position = [f'fr3_joint{i}' for i in range(1, 8)], [float(v) for v in sys.argv[2:]]
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    msg = JointState(name=names, position=position)
    msg.header.stamp = node.get_clock().now().to_msg()
    publisher.publish(msg)
"""


@pytest.fixture(scope='module')
def joint_only_bundle(tmp_path_factory):
    """Return a DARP bundle over joint positions alone: inference takes about a millisecond."""
    from darp_ros.core.bundle import save_bundle
    from darp_ros.core.pipeline import train_model, TrainOptions
    from darp_ros.core.training import TrainConfig
    from ros_harness import episodes
    options = TrainOptions('darp', ('joint_pos',), {'k': 16, 'history_len': 1,
                                                    'history_keep_ratio': 1.0}, device='cpu',
                           train=TrainConfig(epochs=3, progress=False, keep='last'))
    model = train_model(episodes(), options, {'env_name': 'Test', 'type': 0,
                                              'env_kwargs': {'control_freq': 20}})
    return save_bundle(model, tmp_path_factory.mktemp('joints') / 'darp')


def test_a_joint_state_flood_from_another_process_does_not_stop_the_loop(joint_only_bundle):
    graph = Graph(node_parameters(joint_only_bundle, observation_keys=['joint_pos']))
    probe = Probe(graph)
    probe.wait_connected()
    flood = None
    try:
        assert transition(graph.policy, 'configure') == 'inactive'
        assert transition(graph.policy, 'activate') == 'active'
        assert still_commanding(probe)
        flood = subprocess.Popen([sys.executable, '-c', FLOODER, '5.0', *map(str, HOME)])
        time.sleep(1.0)
        start = time.monotonic()
        time.sleep(3.0)
        with probe.lock:
            actions = [t for t, _ in probe.actions if start <= t < start + 3.0]
            commands = [t for t, _ in probe.commands if start <= t < start + 3.0]
    finally:
        if flood is not None:
            flood.wait(timeout=30)
        graph.close()
    # 60 cycles in 3 s: the policy still acts in nearly all of them, with no long gap. The
    # gap is timed where the probe receives, in this process, while the flooder busies one
    # of CI's two cores: 3 periods was seen exceeded by 3 ms (0.153 s) there; a stopped loop
    # leaves a gap of seconds, so 5 periods still tells the two apart.
    assert len(actions) >= 0.8 * 3.0 * RATE_HZ, len(actions)
    assert np.diff(commands).max() < 5.0 / RATE_HZ, np.diff(commands).max()


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_process_cleanly_after_a_final_hold(joint_bundle, tmp_path, signum):
    graph = Graph(None)
    probe = Probe(graph)
    path = parameter_file(node_parameters(joint_bundle, autostart=True), tmp_path / 'params.yaml')
    process = subprocess.Popen([sys.executable, '-m', 'darp_ros.ros.policy_node', '--ros-args',
                                '--params-file', path], stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: len(probe.commands) >= 5, 60.0)
        process.send_signal(signum)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
        graph.close()
    assert process.returncode == 0, err
    assert 'Traceback' not in err and 'at rest after' in err, err
