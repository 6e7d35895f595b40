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
The policy node over real DDS: rate, joint order, image encodings, bad inputs, deactivation.

A probe node publishes joint states and camera images the way a robot driver does and
records what the policy node publishes. Inputs are good unless a test swaps in a bad one;
then the node must stop acting on them (no raw action), keep every command finite and within
the limits, say why on /rosout, and resume by itself once inputs are good again.
"""

import time

from darp_ros.core.runtime import PolicyRuntime
import numpy as np
import pytest
from rclpy.parameter import Parameter
from ros_harness import (active_graph, assert_commands_safe, camera_pixels, HOME, IMAGE,
                         image_msg, joint_msg, JOINTS, node_parameters, Probe, RATE_HZ,
                         transition, wait_for)


@pytest.fixture(scope='module')
def running(joint_bundle):
    """Return (graph, probe) with the policy node configured and active on good inputs."""
    graph, probe = active_graph(node_parameters(joint_bundle))
    yield graph, probe
    graph.close()


@pytest.fixture(scope='module')
def offline_action(joint_bundle):
    """Return the action the runtime object gives for HOME joints and camera_pixels()."""
    runtime = PolicyRuntime.load(joint_bundle, 'cpu')
    return runtime.act({'joint_pos': HOME, 'camera': camera_pixels()})


def latest_action(probe: Probe, settle: float = 0.3) -> np.ndarray:
    """Return the newest raw action computed after the current inputs took over."""
    time.sleep(settle)
    start = time.monotonic()
    assert wait_for(lambda: len(probe.since(probe.actions, start)) >= 2)
    return np.array(probe.since(probe.actions, start)[-1].data)


def test_commands_arrive_at_the_control_rate(running):
    graph, probe = running
    start = time.monotonic()
    time.sleep(3.0)
    commands = probe.since(probe.commands, start)
    assert abs(len(commands) - 3.0 * RATE_HZ) <= 0.1 * 3.0 * RATE_HZ
    assert_commands_safe(commands)


def test_the_node_acts_as_the_runtime_object_does(running, offline_action):
    graph, probe = running
    np.testing.assert_allclose(latest_action(probe), offline_action, atol=1e-5)


def test_joints_are_picked_by_name_not_position(running, offline_action):
    graph, probe = running
    shuffled = ('fr3_finger_joint1',) + tuple(reversed(JOINTS))
    probe.joints = lambda: joint_msg(names=shuffled)
    try:
        np.testing.assert_allclose(latest_action(probe), offline_action, atol=1e-5)
    finally:
        probe.joints = joint_msg


@pytest.mark.parametrize('encoding', ['bgr8', 'rgba8', 'bgra8', 'rgb8 with row padding'])
def test_image_encodings_give_the_rgb8_action(running, offline_action, encoding):
    graph, probe = running
    pixels = camera_pixels()
    padding = 13 if 'padding' in encoding else 0
    probe.image = lambda: image_msg(pixels, encoding.split()[0], padding)
    try:
        np.testing.assert_allclose(latest_action(probe), offline_action, atol=1e-5)
    finally:
        probe.image = lambda: image_msg(camera_pixels())


def test_mono8_images_are_accepted(running, joint_bundle):
    graph, probe = running
    gray = np.repeat(camera_pixels()[..., 1:2], 3, axis=2)
    expected = PolicyRuntime.load(joint_bundle, 'cpu').act({'joint_pos': HOME, 'camera': gray})
    probe.image = lambda: image_msg(camera_pixels(), 'mono8')
    try:
        np.testing.assert_allclose(latest_action(probe), expected, atol=1e-5)
    finally:
        probe.image = lambda: image_msg(camera_pixels())


def joints_with(index: int, value: float):
    """Return a joint state factory with one joint set to value (NaN, Inf)."""
    def factory():
        msg = joint_msg()
        msg.position[index] = value
        return msg
    return factory


def stamped(msg, offset_s: float, probe: Probe):
    """Stamp msg offset_s away from now."""
    stamp = probe.node.get_clock().now().nanoseconds * 1e-9 + offset_s
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp), int(stamp % 1 * 1e9)
    return msg


def short_step(msg):
    """Make the row stride smaller than one row of pixels."""
    msg.step = msg.width * 3 - 1
    return msg


def truncated(msg):
    """Drop the last 40 bytes of the pixel data."""
    msg.data = bytes(msg.data)[:-40]
    return msg


BAD_INPUTS = {
    'nan joint': ('joints', lambda probe: joints_with(2, float('nan')), 'fr3_joint3'),
    'inf joint': ('joints', lambda probe: joints_with(5, float('inf')), 'fr3_joint6'),
    'missing joint': ('joints', lambda probe: lambda: joint_msg(names=JOINTS[:6]),
                      'fr3_joint7'),
    'wrong image size': ('image', lambda probe: lambda: image_msg(
        np.zeros((IMAGE + 8, IMAGE, 3), np.uint8)), 'expects'),
    'step too small': ('image', lambda probe: lambda: short_step(image_msg(camera_pixels())),
                       'step'),
    'truncated image': ('image', lambda probe: lambda: truncated(image_msg(camera_pixels())),
                        'bytes'),
    'stale stamp': ('joints', lambda probe: lambda: stamped(joint_msg(), -2.0, probe),
                    'stale'),
    'future stamp': ('joints', lambda probe: lambda: stamped(joint_msg(), 2.0, probe),
                     'future'),
}


def check_hold_and_recovery(probe: Probe, which: str, bad, words: str) -> None:
    """Swap in a bad input; assert log, no action, safe holds; swap back; assert resume."""
    good = getattr(probe, which)
    setattr(probe, which, bad)
    start = time.monotonic()
    try:
        assert wait_for(lambda: any(words in w for w in probe.warnings_since(start)), 3.0), \
            probe.warnings_since(start - 5.0)
        time.sleep(0.2)
        held_from = time.monotonic()
        time.sleep(0.5)
        assert probe.since(probe.actions, held_from) == []
        holds = probe.since(probe.commands, held_from)
        assert len(holds) >= 0.5 * 0.5 * RATE_HZ
        assert_commands_safe(holds)
    finally:
        setattr(probe, which, good)
    resumed = time.monotonic()
    assert wait_for(lambda: len(probe.since(probe.actions, resumed)) >= 3, 3.0)
    assert_commands_safe(probe.since(probe.commands, start))


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_holds_logs_and_recovers(running, case):
    graph, probe = running
    which, factory, words = BAD_INPUTS[case]
    check_hold_and_recovery(probe, which, factory(probe), words)


def test_inputs_that_stop_hold_within_two_periods_and_resume(running):
    graph, probe = running
    max_age = graph.policy.get_parameter('max_input_age_s').value
    probe.paused = True
    stopped = time.monotonic()
    try:
        time.sleep(max_age + 4.0 / RATE_HZ)
        assert probe.since(probe.actions, stopped + max_age + 2.0 / RATE_HZ) == []
        assert any('stale' in w for w in probe.warnings_since(stopped))
        assert len(probe.since(probe.commands, stopped + max_age + 2.0 / RATE_HZ)) >= 1
    finally:
        probe.paused = False
    resumed = time.monotonic()
    assert wait_for(lambda: len(probe.since(probe.actions, resumed)) >= 3, 3.0)


def test_a_long_fault_stops_streaming_once_at_rest_and_resumes(running):
    graph, probe = running
    node = graph.policy
    assert node.set_parameters([Parameter('hold_timeout_s', value=0.3)])[0].successful
    probe.paused = True
    stopped = time.monotonic()
    try:
        time.sleep(0.5 + 0.3 + 1.0)
        assert any('stopped streaming' in w for w in probe.warnings_since(stopped))
        quiet = time.monotonic() - 0.4
        assert probe.since(probe.commands, quiet) == []
    finally:
        probe.paused = False
        node.set_parameters([Parameter('hold_timeout_s', value=2.0)])
    resumed = time.monotonic()
    assert wait_for(lambda: len(probe.since(probe.commands, resumed)) >= 3, 3.0)


def test_diagnostics_neighbors_and_novelty_are_published(running):
    graph, probe = running
    start = time.monotonic() + 1.1  # a whole diagnostics period of good inputs
    assert wait_for(lambda: len(probe.since(probe.diagnostics, start)) >= 1, 5.0)
    status = probe.since(probe.diagnostics, start)[-1].status[0]
    values = {kv.key: kv.value for kv in status.values}
    assert status.name == 'policy_node: policy'
    assert {'inference_p50_ms', 'inference_p99_ms', 'holds', 'overruns', 'missed_cycles',
            'safety_interventions', 'rate_hz /test/joint_states', 'age_s /test/camera'} \
        <= set(values)
    assert 0.0 < float(values['rate_hz /test/joint_states']) <= 60.0  # published at 50 Hz
    # Each limit that changed a command says how often it did.
    by_limit = {k: int(v) for k, v in values.items() if k.startswith('safety ')}
    assert sum(by_limit.values()) >= int(values['safety_interventions'])
    assert all(' limit' in k for k in by_limit)
    neighbors = probe.since(probe.neighbors, 0.0)[-1]
    k = graph.policy.runtime.model.policy.config.kept   # after history re-ranking
    assert [d.size for d in neighbors.layout.dim] == [k, 3]
    rows = np.array(neighbors.data).reshape(k, 3)
    assert np.all(rows[:, 0] >= 0) and np.all(np.diff(rows[:, 2]) >= -1e-6)
    assert np.isfinite(probe.since(probe.novelty, 0.0)[-1].data)


def test_parameters_are_checked_when_set(running):
    graph, probe = running
    node = graph.policy
    bad = [Parameter('max_input_age_s', value=-1.0), Parameter('fault_behavior', value='panic'),
           Parameter('model_dir', value='/elsewhere'), Parameter('control_rate_hz', value=5.0)]
    assert [r.successful for r in node.set_parameters(bad)] == [False] * 4
    assert node.config.max_input_age_s == 0.5
    assert node.set_parameters([Parameter('max_input_age_s', value=0.4)])[0].successful
    try:
        assert node.config.max_input_age_s == 0.4
    finally:
        node.set_parameters([Parameter('max_input_age_s', value=0.5)])


def test_gripper_width_is_open_or_closed(running):
    graph, probe = running
    assert wait_for(lambda: len(probe.gripper) >= 1)
    assert {m.data for m in probe.since(probe.gripper, 0.0)} <= {0.0, 0.08}


def test_deactivate_brakes_to_rest_then_sends_nothing(running):
    graph, probe = running
    before = time.monotonic()
    assert transition(graph.policy, 'deactivate') == 'inactive'
    time.sleep(0.5)
    after = probe.since(probe.commands, before)
    # Holds until two are equal (at rest): a full-speed stop takes 1.0 / 4.0 s, 5 cycles.
    assert 1 <= len(after) <= 8
    if len(after) > 1:
        assert np.array_equal(after[-1].data, after[-2].data)
    quiet_from = time.monotonic()
    time.sleep(0.3)
    assert probe.since(probe.commands, quiet_from) == []
    assert transition(graph.policy, 'activate') == 'active'
    resumed = time.monotonic()
    assert wait_for(lambda: len(probe.since(probe.commands, resumed)) >= 3, 3.0)
