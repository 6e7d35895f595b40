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


"""Command vectors become the message each command type names; gripper goals get filled."""

from types import SimpleNamespace

from builtin_interfaces.msg import Time
from darp_ros.control.command_mapping import CommandMapping, GripperMapping
from darp_ros.ros.command_messages import WRITERS
from darp_ros.ros.gripper_output import fill_goal
import numpy as np
import pytest

STAMP = Time(sec=12, nanosec=5)


def write(kind, values, **mapping):
    """Return the message a writer makes of values."""
    writer = WRITERS[kind]
    msg = writer.write(np.asarray(values, float), STAMP, CommandMapping(kind, 'cmd', **mapping),
                       0.05)
    assert isinstance(msg, writer.msg_type)
    return msg


@pytest.mark.parametrize('kind', ['joint_position', 'joint_velocity', 'array'])
def test_arrays(kind):
    assert list(write(kind, [0.1, -0.2]).data) == [0.1, -0.2]


def test_joint_trajectory_has_names_and_one_point_one_period_ahead():
    msg = write('joint_trajectory', [0.1, 0.2], joint_names=('j1', 'j2'))
    assert msg.joint_names == ['j1', 'j2'] and list(msg.points[0].positions) == [0.1, 0.2]
    assert (msg.points[0].time_from_start.sec, msg.points[0].time_from_start.nanosec) == \
        (0, 50_000_000)
    later = write('joint_trajectory', [0.1, 0.2], joint_names=('j1', 'j2'),
                  time_from_start_s=1.25)
    assert (later.points[0].time_from_start.sec, later.points[0].time_from_start.nanosec) == \
        (1, 250_000_000)


def test_twist_and_pose_are_stamped_in_the_configured_frame():
    twist = write('twist', [1, 2, 3, 4, 5, 6], frame_id='base')
    assert twist.header.stamp == STAMP and twist.header.frame_id == 'base'
    assert (twist.twist.linear.z, twist.twist.angular.x) == (3.0, 4.0)
    pose = write('pose', [0.4, 0.0, 0.3, 1.0, 0.0, 0.0, 0.0], frame_id='fr3_link0')
    assert (pose.pose.position.x, pose.pose.orientation.x, pose.pose.orientation.w) == \
        (0.4, 1.0, 0.0)


def test_gripper_goals_get_the_fields_their_action_has():
    mapping = GripperMapping(enabled=True, speed=0.2, force=30.0, epsilon=0.05)
    grasp = fill_goal(SimpleNamespace(width=None, speed=None, force=None,
                                      epsilon=SimpleNamespace(inner=0, outer=0)), 0.01, mapping)
    assert (grasp.width, grasp.speed, grasp.force, grasp.epsilon.inner, grasp.epsilon.outer) == \
        (0.01, 0.2, 30.0, 0.05, 0.05)
    move = fill_goal(SimpleNamespace(width=None, speed=None), 0.08, mapping)
    assert vars(move) == {'width': 0.08, 'speed': 0.2}
