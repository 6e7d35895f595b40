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
The shipped robot config drives the shipped model: config/franka_fr3.yaml + models/lift_darp.

Inputs arrive on the franka_ros2 topic names the config maps (the end-effector pose, the
finger joints, an object state); the node must stream target poses for the Cartesian
impedance controller inside the workspace box, at most linear_velocity * period apart, with
unit quaternions, and a gripper width that is open or closed.
"""

from pathlib import Path
import time

from darp_ros.control.node_parameters import read_parameter_file
from geometry_msgs.msg import PoseStamped
import numpy as np
import pytest
from ros_harness import Graph, transition, wait_for
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64, Float64MultiArray

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def franka():
    """Return (graph, config, commands, widths) with the node active on franka topics."""
    params = read_parameter_file(ROOT / 'config' / 'franka_fr3.yaml')
    # franka_msgs is not installed here: the gripper reports a width instead of action goals.
    params.update({'model_dir': str(ROOT / 'models' / 'lift_darp'), 'device': 'cpu',
                   'gripper.output': 'width', 'gripper.topic': 'test/gripper_width',
                   # These inputs are in the robot's base frame, far from the shipped bundle's
                   # robosuite-frame demonstrations (novelty ~77): the config's guard would
                   # rightly hold. This module checks what is commanded, so the guard is off;
                   # test_policy_node_safety checks the guard.
                   'novelty_guard.hold_above': 0.0})
    graph = Graph(params)
    probe = graph.probe
    commands, widths = [], []
    probe.create_subscription(PoseStamped, params['command.topic'],
                              lambda m: commands.append((time.monotonic(), m)), 10)
    probe.create_subscription(Float64, params['gripper.topic'], widths.append, 10)
    pose_pub = probe.create_publisher(PoseStamped, params['obs.robot0_eef_pos.topic'], 10)
    finger_pub = probe.create_publisher(JointState, params['obs.robot0_gripper_qpos.topic'], 10)
    object_pub = probe.create_publisher(Float64MultiArray, params['obs.object.topic'], 10)

    def publish():
        stamp = probe.get_clock().now().to_msg()
        pose = PoseStamped()
        pose.header.stamp, pose.header.frame_id = stamp, 'fr3_link0'
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = 0.5, 0.05, 0.25
        pose.pose.orientation.x, pose.pose.orientation.w = 1.0, 0.0
        pose_pub.publish(pose)
        fingers = JointState(name=['fr3_finger_joint1', 'fr3_finger_joint2'],
                             position=[0.04, 0.04])
        fingers.header.stamp = stamp
        finger_pub.publish(fingers)
        object_pub.publish(Float64MultiArray(
            data=[0.55, 0.0, 0.03, 0.0, 0.0, 0.0, 1.0, 0.05, -0.05, -0.22]))

    probe.create_timer(0.02, publish)
    assert transition(graph.policy, 'configure') == 'inactive'
    assert transition(graph.policy, 'activate') == 'active'
    assert wait_for(lambda: len(commands) >= 40, 20.0)
    yield graph, params, commands, widths
    graph.close()


def test_target_poses_stay_in_the_box_and_within_the_speed_limit(franka):
    graph, params, commands, widths = franka
    msgs = [m for _, m in commands]
    assert {m.header.frame_id for m in msgs} == {'fr3_link0'}
    positions = np.array([[m.pose.position.x, m.pose.position.y, m.pose.position.z]
                          for m in msgs])
    quaternions = np.array([[m.pose.orientation.x, m.pose.orientation.y, m.pose.orientation.z,
                             m.pose.orientation.w] for m in msgs])
    assert np.all(positions >= np.array(params['limits.workspace_lower']) - 1e-9)
    assert np.all(positions <= np.array(params['limits.workspace_upper']) + 1e-9)
    step = params['limits.linear_velocity'] / params['control_rate_hz']
    # The speed limit bounds the norm of the motion, as the config text says ...
    moves = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    assert moves.max() <= step + 1e-9
    # ... in real time: by the time between the commands' own stamps, however close.
    stamps = np.array([m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in msgs])
    assert np.all(moves <= params['limits.linear_velocity'] * np.diff(stamps) + 1e-6)
    np.testing.assert_allclose(np.linalg.norm(quaternions, axis=1), 1.0, atol=1e-9)


def test_the_gripper_gets_a_width(franka):
    graph, params, commands, widths = franka
    assert wait_for(lambda: len(widths) >= 1, 5.0)
    assert {w.data for w in widths} <= {params['gripper.open_width'],
                                        params['gripper.closed_width']}
