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
`darp bench --node`: message in -> command out through the real PolicyNode over DDS.

A probe node publishes one stamped JointState (the low-dim keys) and one Image per camera
at the control rate, all with the same stamp; the policy node runs in lockstep
(sync_inputs), so each complete set is one step, and the probe times from the set's first
publish to the command's receipt. Each node spins its own executor on its own thread, as
two processes would, while sharing one rclpy context (DDS on loopback, no intra-process
shortcut). A set whose command has not arrived when the next set goes out is a missed cycle.
"""

import bisect
import os
import threading
import time
from typing import Dict, List

from darp_ros.bench.step_bench import summarize
from darp_ros.core.errors import ConfigError
from darp_ros.core.spec import ObservationSpec
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64MultiArray

COMMAND_TOPIC = '/darp_bench/command'
JOINT_TOPIC = '/darp_bench/joints'


def camera_topic(name: str) -> str:
    """Return the topic the probe publishes camera key name on."""
    return f'/darp_bench/{name}'


def node_parameters(bundle, spec: ObservationSpec, action_dim: int, rate_hz: float,
                    threads: int, device: str) -> Dict[str, object]:
    """Return PolicyNode parameters mapping the probe's topics onto the bundle's keys."""
    values = {
        'model_dir': str(bundle), 'device': device, 'control_rate_hz': float(rate_hz),
        'sync_inputs': True, 'cpu_threads': int(threads), 'warmup_steps': 10,
        'max_input_age_s': 1.0, 'observation_keys': list(spec.names),
        'command.type': 'array', 'command.topic': COMMAND_TOPIC,
        'limits.lower': [-1e3] * action_dim, 'limits.upper': [1e3] * action_dim,
    }
    for key in spec.keys:
        if key.kind == 'rgb':
            values[f'obs.{key.name}.topic'] = camera_topic(key.name)
            values[f'obs.{key.name}.type'] = 'image'
        else:
            width = int(np.prod(key.shape))
            values[f'obs.{key.name}.topic'] = JOINT_TOPIC
            values[f'obs.{key.name}.type'] = 'joint_state'
            values[f'obs.{key.name}.joints'] = [f'{key.name}_{i}' for i in range(width)]
    low_dim = [k for k in spec.keys if k.kind != 'rgb']
    if len(low_dim) > 1:
        raise ConfigError(f'--node: expected at most one low-dim key, got '
                          f'{[k.name for k in low_dim]}')
    return values


class LatencyProbe:
    """Publish complete input sets at the rate; record publish and command receipt times."""

    def __init__(self, node, spec: ObservationSpec, rate_hz: float, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.node = node
        self.sent: List[float] = []
        self.received: List[float] = []
        self.lock = threading.Lock()
        self.running = False
        self.messages = []
        for key in spec.keys:
            if key.kind == 'rgb':
                height, width, _ = key.shape
                pixels = rng.integers(0, 256, key.shape, dtype=np.uint8)
                # Built once: the probe's own work must not show up as the node's latency.
                msg = Image(height=height, width=width, encoding='rgb8', step=3 * width,
                            data=pixels.tobytes())
                topic, msg_type = camera_topic(key.name), Image
            else:
                names = [f'{key.name}_{i}' for i in range(int(np.prod(key.shape)))]
                msg = JointState(name=names, position=rng.standard_normal(len(names)).tolist())
                topic, msg_type = JOINT_TOPIC, JointState
            self.messages.append((node.create_publisher(msg_type, topic, 10), msg))
        self.commands = node.create_subscription(Float64MultiArray, COMMAND_TOPIC,
                                                 self._on_command, 10)
        self.timer = node.create_timer(1.0 / rate_hz, self._publish)

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Return once the policy node subscribes to every input and publishes commands."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.commands.get_publisher_count() > 0 and all(
                    publisher.get_subscription_count() > 0 for publisher, _ in self.messages):
                return
            time.sleep(0.05)
        raise ConfigError(f'--node: the policy node did not connect to the probe in {timeout} s')

    def _publish(self) -> None:
        if not self.running:
            return
        stamp = self.node.get_clock().now().to_msg()
        sent = time.monotonic()
        for publisher, msg in self.messages:
            msg.header.stamp = stamp
            publisher.publish(msg)
        with self.lock:
            self.sent.append(sent)

    def _on_command(self, msg) -> None:
        with self.lock:
            self.received.append(time.monotonic())


def match(sent: List[float], received: List[float]) -> tuple:
    """
    Return (latencies, missed): each set's first command, and how many sets got none.

    A command belongs to the newest set sent before it; a second command for one set
    (a hold after a fault) is not counted again.
    """
    latencies, missed = [], 0
    received = sorted(received)
    for i, start in enumerate(sent):
        end = sent[i + 1] if i + 1 < len(sent) else float('inf')
        at = bisect.bisect_left(received, start)
        if at < len(received) and received[at] < end:
            latencies.append(received[at] - start)
        else:
            missed += 1
    return latencies, missed


def run_node_bench(bundle, steps: int, rate_hz: float = 20.0, threads: int = 1,
                   device: str = 'cpu', warmup_steps: int = 20) -> dict:
    """Run the policy node on bundle against the probe for steps sets; return the figures."""
    from darp_ros.core.runtime import PolicyRuntime
    from darp_ros.ros.policy_node import PolicyNode
    if steps < 1 or rate_hz <= 0:
        raise ConfigError(f'--node: expected steps >= 1 and rate > 0, got {steps}, {rate_hz}')
    info = PolicyRuntime.load(bundle, 'cpu')
    spec, action_dim = info.obs_spec, info.action_dim
    del info
    parameters = node_parameters(bundle, spec, action_dim, rate_hz, threads, device)
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    context = rclpy.Context()
    rclpy.init(context=context)
    # Its own name: rcl keeps one /rosout publisher per node name per process, and a bench
    # run inside a bigger process (the tests) must not take the deployed node's.
    policy = PolicyNode('darp_bench_policy', context=context, parameter_overrides=[
        Parameter(k, value=v) for k, v in parameters.items()])
    probe_node = rclpy.create_node('darp_bench_probe', context=context)
    probe = LatencyProbe(probe_node, spec, rate_hz)
    executors = []
    try:
        for node in (policy, probe_node):
            executor = SingleThreadedExecutor(context=context)
            executor.add_node(node)
            threading.Thread(target=executor.spin, daemon=True).start()
            executors.append(executor)
        for transition in (policy.trigger_configure, policy.trigger_activate):
            if transition() != TransitionCallbackReturn.SUCCESS:
                raise ConfigError('--node: the policy node did not start; see its log above')
        probe.wait_connected()
        probe.running = True
        # The first sets find discovery and caches still settling: not part of the figures.
        time.sleep(warmup_steps / rate_hz)
        with probe.lock:
            skip = len(probe.sent)
        time.sleep(steps / rate_hz)
        probe.running = False
        time.sleep(0.5)  # let the last command arrive
        with probe.lock:
            sent, received = probe.sent[skip:skip + steps], list(probe.received)
        latencies, missed = match(sent, received)
        stats = policy.stats
        intervals = np.diff(sent) if len(sent) > 1 else np.array([])
        return {'steps': len(sent), 'rate_hz': rate_hz, 'latency': summarize(latencies),
                'missed_cycles': missed, 'node_overruns': stats.overruns,
                'node_holds': stats.holds, 'node_inference': {
                    'median_ms': stats.latency_ms(0.5), 'p99_ms': stats.latency_ms(0.99)},
                'publish_interval': summarize(intervals),
                'parameters': {k: v for k, v in parameters.items() if k != 'model_dir'}}
    finally:
        probe.running = False
        for executor in executors:
            executor.shutdown(timeout_sec=2.0)
        for node in (policy, probe_node):
            node.destroy_node()
        rclpy.try_shutdown(context=context)
