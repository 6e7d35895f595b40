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

"""Tests of darp_ros.control.field_messages on rclpy message classes and rosbags-like objects."""

import math
from types import SimpleNamespace

from builtin_interfaces.msg import Time
from darp_ros.control.field_messages import (
    array_values, joint_values, JointPicker, pose_values, stamp_seconds, vector_values)
from darp_ros.core.errors import ConfigError, ObservationError
from geometry_msgs.msg import (
    Point, Pose, PoseStamped, PoseWithCovarianceStamped, Quaternion, TwistStamped, Vector3,
    Vector3Stamped)
import numpy as np
import pytest
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, MultiArrayLayout

NAMES = ['shoulder', 'elbow', 'wrist', 'gripper']
POSITIONS = [0.1, 0.2, 0.3, 0.4]


def ros_joints(names, position=(), velocity=(), effort=()):
    return JointState(name=list(names), position=list(position), velocity=list(velocity),
                      effort=list(effort))


def bag_joints(names, position=(), velocity=(), effort=()):
    # rosbags keeps the field names but gives float64[] as numpy arrays.
    return SimpleNamespace(name=list(names), position=np.array(position, np.float64),
                           velocity=np.array(velocity, np.float64),
                           effort=np.array(effort, np.float64))


JOINT_MAKERS = [ros_joints, bag_joints]


def test_stamp_seconds():
    assert stamp_seconds(Time(sec=0, nanosec=0)) is None
    assert stamp_seconds(Time(sec=12, nanosec=500_000_000)) == pytest.approx(12.5)
    assert stamp_seconds(SimpleNamespace(sec=0, nanosec=1)) == pytest.approx(1e-9)


@pytest.mark.parametrize('make', JOINT_MAKERS)
def test_joints_are_picked_by_name_not_position(make):
    msg = make(NAMES, POSITIONS, velocity=[1, 2, 3, 4])
    out = joint_values(msg, ['wrist', 'shoulder'])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.3, 0.1])
    np.testing.assert_array_equal(joint_values(msg, ['gripper', 'elbow'], 'velocity'), [4, 2])


@pytest.mark.parametrize('make', JOINT_MAKERS)
def test_picker_follows_a_change_of_message_order(make):
    picker = JointPicker(['elbow', 'wrist'], 'effort')
    np.testing.assert_array_equal(picker(make(NAMES, effort=POSITIONS)), [0.2, 0.3])
    reordered = make(NAMES[::-1], effort=POSITIONS[::-1])
    np.testing.assert_array_equal(picker(reordered), [0.2, 0.3])


def test_result_does_not_alias_the_message():
    msg = bag_joints(NAMES, POSITIONS)
    out = joint_values(msg, NAMES)
    msg.position[:] = 0
    np.testing.assert_array_equal(out, POSITIONS)


def joint_error(msg, names, field='position'):
    with pytest.raises(ObservationError) as info:
        joint_values(msg, names, field)
    return str(info.value)


@pytest.mark.parametrize('make', JOINT_MAKERS)
def test_missing_joints_are_listed_with_the_message_names(make):
    message = joint_error(make(NAMES, POSITIONS), ['elbow', 'knee', 'hip'])
    assert "['knee', 'hip']" in message and str(NAMES) in message


@pytest.mark.parametrize('make', JOINT_MAKERS)
def test_non_finite_joint_is_named(make):
    message = joint_error(make(NAMES, [0.1, math.nan, 0.3, math.inf]), ['wrist', 'elbow'])
    assert 'elbow' in message and 'wrist' not in message
    # A NaN in a joint that is not picked is not our concern.
    np.testing.assert_array_equal(
        joint_values(make(NAMES, [0.1, math.nan, 0.3, 0.4]), ['wrist']), [0.3])


@pytest.mark.parametrize('make', JOINT_MAKERS)
def test_duplicate_message_names_are_rejected(make):
    message = joint_error(make(['a', 'b', 'a'], [1, 2, 3]), ['b'])
    assert "['a']" in message and 'more than once' in message


@pytest.mark.parametrize('make', JOINT_MAKERS)
def test_field_shorter_than_names_is_rejected(make):
    message = joint_error(make(NAMES, POSITIONS), ['elbow'], 'velocity')
    assert '0 velocity values for 4 names' in message
    assert '3 position' in joint_error(make(NAMES, POSITIONS[:3]), ['elbow'])


def test_bad_picker_configuration():
    with pytest.raises(ConfigError):
        JointPicker(['a'], 'acceleration')
    with pytest.raises(ConfigError):
        JointPicker([])
    with pytest.raises(ConfigError):
        JointPicker(['a', 'a'])
    with pytest.raises(ConfigError):
        JointPicker('elbow')


def ros_pose(position, orientation, stamped=True):
    pose = Pose(position=Point(x=position[0], y=position[1], z=position[2]),
                orientation=Quaternion(x=orientation[0], y=orientation[1], z=orientation[2],
                                       w=orientation[3]))
    return PoseStamped(pose=pose) if stamped else pose


def bag_pose(position, orientation, stamped=True):
    x, y, z = position
    qx, qy, qz, qw = orientation
    pose = SimpleNamespace(position=SimpleNamespace(x=x, y=y, z=z),
                           orientation=SimpleNamespace(x=qx, y=qy, z=qz, w=qw))
    return SimpleNamespace(header=None, pose=pose) if stamped else pose


POSE_MAKERS = [ros_pose, bag_pose]
HALF = math.sqrt(0.5)


@pytest.mark.parametrize('make', POSE_MAKERS)
@pytest.mark.parametrize('stamped', [True, False])
def test_pose_fields(make, stamped):
    msg = make((1.0, 2.0, 3.0), (0.0, 0.0, HALF, HALF), stamped)
    np.testing.assert_array_equal(pose_values(msg, 'position'), [1, 2, 3])
    np.testing.assert_allclose(pose_values(msg, 'orientation'), [0, 0, HALF, HALF])
    pose = pose_values(msg, 'pose')
    assert pose.shape == (7,) and pose.dtype == np.float64
    np.testing.assert_allclose(pose, [1, 2, 3, 0, 0, HALF, HALF])


def test_pose_with_covariance_is_unwrapped():
    msg = PoseWithCovarianceStamped()
    msg.pose.pose = ros_pose((4.0, 5.0, 6.0), (0.0, 0.0, 0.0, 1.0), stamped=False)
    np.testing.assert_array_equal(pose_values(msg, 'pose'), [4, 5, 6, 0, 0, 0, 1])


@pytest.mark.parametrize('make', POSE_MAKERS)
def test_nearly_unit_quaternion_is_normalized(make):
    out = pose_values(make((0, 0, 0), (0.0, 0.0, 0.0, 1.0005)), 'orientation')
    assert np.linalg.norm(out) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(out, [0, 0, 0, 1])


@pytest.mark.parametrize('make', POSE_MAKERS)
@pytest.mark.parametrize('orientation', [(0, 0, 0, 0), (0, 0, 0, 1.01), (0, 0, 0.5, 0.5)])
def test_quaternion_far_from_unit_is_rejected(make, orientation):
    with pytest.raises(ObservationError, match='norm'):
        pose_values(make((0, 0, 0), orientation), 'pose')
    # The position alone does not depend on the orientation.
    np.testing.assert_array_equal(pose_values(make((1, 2, 3), orientation), 'position'),
                                  [1, 2, 3])


@pytest.mark.parametrize('make', POSE_MAKERS)
def test_non_finite_pose_is_rejected(make):
    with pytest.raises(ObservationError, match='position'):
        pose_values(make((0, math.nan, 0), (0, 0, 0, 1)), 'position')
    with pytest.raises(ObservationError, match='orientation'):
        pose_values(make((0, 0, 0), (0, 0, math.inf, 1)), 'orientation')


def test_bad_pose_field_or_message():
    with pytest.raises(ConfigError):
        pose_values(ros_pose((0, 0, 0), (0, 0, 0, 1)), 'twist')
    with pytest.raises(ObservationError, match='Vector3Stamped'):
        pose_values(Vector3Stamped(), 'position')


DATA = [0.5, 1.5, 2.5, 3.5, 4.5]


@pytest.mark.parametrize('msg', [Float64MultiArray(data=DATA),
                                 SimpleNamespace(data=np.array(DATA))])
def test_array_values_and_indices(msg):
    out = array_values(msg)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, DATA)
    np.testing.assert_array_equal(array_values(msg, [4, 0, 2]), [4.5, 0.5, 2.5])
    with pytest.raises(ObservationError, match='length 5'):
        array_values(msg, [1, 5])
    with pytest.raises(ObservationError, match='length 5'):
        array_values(msg, [-1])


def test_array_values_reject_non_finite_only_where_picked():
    msg = SimpleNamespace(data=np.array([1.0, math.nan, 3.0]))
    with pytest.raises(ObservationError, match=r'\[1\]'):
        array_values(msg)
    np.testing.assert_array_equal(array_values(msg, [2, 0]), [3, 1])
    with pytest.raises(ObservationError, match=r'\[1\]'):
        array_values(msg, [0, 1])


def test_array_values_skip_the_data_offset():
    msg = Float64MultiArray(layout=MultiArrayLayout(data_offset=2), data=DATA)
    np.testing.assert_array_equal(array_values(msg, [0]), [2.5])


def test_array_values_bad_indices():
    with pytest.raises(ConfigError):
        array_values(Float64MultiArray(data=DATA), [0.5])


def test_vector_values():
    msg = Vector3Stamped(vector=Vector3(x=1.0, y=2.0, z=3.0))
    np.testing.assert_array_equal(vector_values(msg), [1, 2, 3])
    np.testing.assert_array_equal(vector_values(msg.vector, ''), [1, 2, 3])
    twist = TwistStamped()
    twist.twist.linear = Vector3(x=1.0, y=2.0, z=3.0)
    twist.twist.angular = Vector3(x=4.0, y=5.0, z=6.0)
    np.testing.assert_array_equal(vector_values(twist, 'twist.angular'), [4, 5, 6])
    np.testing.assert_array_equal(vector_values(twist, 'twist'), [1, 2, 3, 4, 5, 6])
    with pytest.raises(ObservationError, match='no field'):
        vector_values(twist, 'twist.linear.w')
    with pytest.raises(ObservationError, match='not finite'):
        vector_values(SimpleNamespace(vector=SimpleNamespace(x=math.nan, y=0, z=0)))
