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
Helpers of the ROS tests: a tiny joint-space bundle, node parameters, a spinning graph.

The bundle sees seven joints and a 32x32 camera and outputs seven joint deltas plus a
gripper element, which is the shape of a joint-space Franka policy. Everything runs over real
rclpy and DDS on loopback.
"""

import gc
import os
import threading
import time
from typing import Optional

import cv2
from darp_ros.data.demos import Episode
from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rcl_interfaces.msg import Log
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import Float64, Float64MultiArray
import yaml

# Keep discovery on this machine and off the default domain other ROS users may share.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))

JOINTS = tuple(f'fr3_joint{i}' for i in range(1, 8))
IMAGE = 32
LOWER = (-2.0, -1.5, -2.5, -2.9, -2.5, 0.6, -2.8)
UPPER = (2.0, 1.5, 2.5, -0.2, 2.5, 4.4, 2.8)
RATE_HZ = 20.0
IMAGE_TOPICS = {False: '/test/camera', True: '/test/camera/compressed'}
HOME = np.array([0.0, -0.3, 0.0, -2.0, 0.0, 1.8, 0.8])


def episodes(count: int = 6, length: int = 30):
    """Return straight joint-space reaches with a camera that shows time and episode."""
    rng = np.random.default_rng(0)
    result = []
    for e in range(count):
        start = HOME + rng.uniform(-0.2, 0.2, size=7)
        goal = HOME + rng.uniform(-0.3, 0.3, size=7)
        t = np.linspace(0.0, 1.0, length)[:, None]
        joints = start + (goal - start) * t
        deltas = np.diff(joints, axis=0, append=joints[-1:])
        gripper = np.where(t[:, 0] > 0.5, 1.0, -1.0)[:, None]
        images = np.zeros((length, IMAGE, IMAGE, 3), np.uint8)
        images[:, :, :, 0] = (np.arange(length) * 8 % 255)[:, None, None]
        images[:, 4:12, 4 + e:12 + e, 1] = 200
        obs = {'joint_pos': joints.astype(np.float32), 'camera': images}
        actions = np.concatenate([deltas * 10, gripper], 1).astype(np.float32)
        result.append(Episode(f'demo_{e}', obs, actions))
    return result


def node_parameters(bundle, compressed: bool = False, **overrides) -> dict:
    """Return parameters that map the test topics onto the bundle, plus overrides."""
    values = {
        'model_dir': str(bundle), 'device': 'cpu', 'control_rate_hz': 20.0,
        'max_input_age_s': 0.5, 'warmup_steps': 1,
        'observation_keys': ['joint_pos', 'camera'],
        'obs.joint_pos.topic': '/test/joint_states', 'obs.joint_pos.type': 'joint_state',
        'obs.joint_pos.joints': list(JOINTS),
        'obs.camera.topic': IMAGE_TOPICS[compressed],
        'obs.camera.type': 'compressed_image' if compressed else 'image',
        'command.type': 'joint_position', 'command.topic': '/test/command',
        'command.scale': [0.1] * 7, 'command.relative_to': ['joint_pos'],
        'command.state_keys': ['joint_pos'],
        'gripper.enabled': True, 'gripper.topic': '/test/gripper',
        'limits.lower': list(LOWER), 'limits.upper': list(UPPER),
        'limits.velocity': [1.0] * 7, 'limits.acceleration': [4.0] * 7,
        'limits.max_step': [0.05] * 7,
    }
    values.update(overrides)
    return values


class Graph:
    """A policy node (unless parameters is None) and a probe node spun in a background thread."""

    def __init__(self, parameters: Optional[dict]):
        from darp_ros.ros.policy_node import PolicyNode
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.parameter import Parameter
        # A node an earlier test dropped without destroying is finalized by the garbage
        # collector; rcl keeps one /rosout publisher per node name and process, so finalizing
        # an old 'policy_node' after ours exists would silence our node's log lines.
        gc.collect()
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.nodes = []
        self.policy = None
        if parameters is not None:
            overrides = [Parameter(k, value=v) for k, v in parameters.items()]
            self.policy = PolicyNode(context=self.context, parameter_overrides=overrides)
            self.nodes.append(self.policy)
        self.probe = rclpy.create_node('probe', context=self.context)
        self.nodes.append(self.probe)
        for node in self.nodes:
            self.executor.add_node(node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop spinning and tear everything down."""
        self.executor.shutdown(timeout_sec=2.0)
        for node in self.nodes:
            try:
                node.destroy_node()
            except Exception as exc:  # noqa: B902 - destroy the others regardless
                print(f'destroying {node.get_name()} failed: {exc}')
        rclpy.try_shutdown(context=self.context)
        self.thread.join(timeout=2.0)


def transition(node, name: str) -> str:
    """Trigger the named lifecycle transition of node and return the state it reached."""
    getattr(node, f'trigger_{name}')()
    return node._state_machine.current_state[1]


def wait_for(predicate, timeout: float = 5.0, period: float = 0.01) -> bool:
    """Poll predicate until it is true or timeout seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())


def camera_pixels() -> np.ndarray:
    """Return a fixed RGB test picture with distinct channels, so swaps change the action."""
    image = np.zeros((IMAGE, IMAGE, 3), np.uint8)
    image[..., 0] = np.arange(IMAGE, dtype=np.uint8)[None, :] * 7
    image[..., 1] = 60
    image[8:20, 5:15, 2] = 250
    return image


def image_msg(pixels: np.ndarray, encoding: str = 'rgb8', padding: int = 0) -> Image:
    """Return pixels as a sensor_msgs/Image in encoding, rows padded by padding bytes."""
    data = {'rgb8': pixels, 'bgr8': pixels[..., ::-1],
            'rgba8': np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)]),
            'bgra8': np.dstack([pixels[..., ::-1], np.full(pixels.shape[:2], 9, np.uint8)]),
            'mono8': pixels[..., 1]}[encoding]
    rows = data.reshape(pixels.shape[0], -1)
    rows = np.hstack([rows, np.zeros((rows.shape[0], padding), np.uint8)])
    return Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding,
                 step=rows.shape[1], data=rows.tobytes())


def png_msg(pixels: np.ndarray) -> CompressedImage:
    """Return pixels as a lossless PNG sensor_msgs/CompressedImage."""
    ok, png = cv2.imencode('.png', pixels[..., ::-1])
    assert ok
    return CompressedImage(format='png', data=png.tobytes())


def jpeg_msg(pixels: np.ndarray) -> CompressedImage:
    """Return pixels as a JPEG sensor_msgs/CompressedImage."""
    ok, jpeg = cv2.imencode('.jpg', pixels[..., ::-1])
    assert ok
    return CompressedImage(format='jpeg', data=jpeg.tobytes())


def joint_msg(positions=HOME, names=JOINTS) -> JointState:
    """Return a JointState with names in the given order (positions follow the names)."""
    order = [JOINTS.index(n) if n in JOINTS else 0 for n in names]
    return JointState(name=list(names), position=[float(positions[i]) for i in order])


class Probe:
    """Publishes inputs at 50 Hz from swappable factories; records the node's outputs."""

    def __init__(self, graph: Graph, compressed: bool = False):
        node = graph.probe
        self.node = node
        self.joints = lambda: joint_msg()
        self.image = (lambda: png_msg(camera_pixels())) if compressed else \
            (lambda: image_msg(camera_pixels()))
        self.paused = False
        self.lock = threading.Lock()
        self.commands, self.actions, self.logs, self.gripper = [], [], [], []
        self.diagnostics, self.neighbors, self.novelty = [], [], []
        self.joint_pub = node.create_publisher(JointState, '/test/joint_states', 10)
        self.image_pub = node.create_publisher(CompressedImage if compressed else Image,
                                               IMAGE_TOPICS[compressed], 10)
        # Deep: a service call that brakes blocks this shared executor, and the holds it
        # sends meanwhile arrive in one burst.
        node.create_subscription(Float64MultiArray, '/test/command', self._on(self.commands),
                                 100)
        node.create_subscription(Float64MultiArray, '/policy_node/action',
                                 self._on(self.actions), 10)
        node.create_subscription(Float64, '/test/gripper', self._on(self.gripper), 10)
        node.create_subscription(DiagnosticArray, '/diagnostics', self._on(self.diagnostics), 10)
        node.create_subscription(Float64MultiArray, '/policy_node/neighbors',
                                 self._on(self.neighbors), 10)
        node.create_subscription(Float64, '/policy_node/novelty', self._on(self.novelty), 10)
        self.rosout = node.create_subscription(
            Log, '/rosout', self._on(self.logs),
            # Transient local: /rosout keeps recent lines for late joiners, so none is missed.
            QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL))
        node.create_timer(0.02, self._publish)

    def wait_connected(self, publishers: int = 2) -> None:
        """Wait until /rosout hears from the policy node too, so no log line is missed."""
        assert wait_for(lambda: self.rosout.get_publisher_count() >= publishers, 10.0)

    def _on(self, store):
        def callback(msg):
            with self.lock:
                store.append((time.monotonic(), msg))
        return callback

    def _publish(self):
        if self.paused:
            return
        now = self.node.get_clock().now().to_msg()
        joints = self.joints()
        if joints.header.stamp.sec == 0:
            joints.header.stamp = now
        self.joint_pub.publish(joints)
        image = self.image()
        if image.header.stamp.sec == 0:
            image.header.stamp = now
        self.image_pub.publish(image)

    def since(self, store, start: float) -> list:
        """Return the messages of store received after start."""
        with self.lock:
            return [msg for t, msg in store if t >= start]

    def warnings_since(self, start: float) -> list:
        """Return the policy node's warning texts received after start."""
        return [m.msg for m in self.since(self.logs, start)
                if m.name.endswith('policy_node') and m.level >= Log.WARN]


def assert_commands_safe(commands):
    """Every command is finite, inside the joint limits, and moves at most max_step."""
    values = np.array([c.data for c in commands])
    assert np.all(np.isfinite(values))
    assert np.all(values >= np.array(LOWER) - 1e-9) and np.all(values <= np.array(UPPER) + 1e-9)
    if len(values) > 1:
        assert np.abs(np.diff(values, axis=0)).max() <= 0.05 + 1e-9


def active_graph(parameters: dict, compressed: bool = False):
    """Return (graph, probe) with the policy node configured, active and acting."""
    graph = Graph(parameters)
    probe = Probe(graph, compressed=compressed)
    probe.wait_connected()
    assert transition(graph.policy, 'configure') == 'inactive'
    assert transition(graph.policy, 'activate') == 'active'
    assert wait_for(lambda: len(probe.actions) > 3, timeout=15.0)
    return graph, probe


def parameter_file(parameters: dict, path) -> str:
    """Write flat node parameters as a nested ROS 2 parameter file; return its path."""
    nested = {}
    for name, value in parameters.items():
        *parents, leaf = name.split('.')
        branch = nested
        for part in parents:
            branch = branch.setdefault(part, {})
        branch[leaf] = value
    path.write_text(yaml.safe_dump({'policy_node': {'ros__parameters': nested}}))
    return str(path)
