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
Command vectors to ROS messages: one writer per command type, chosen from a table.

The safety layer has already checked the vector; writers only lay it out.
"""

from typing import Callable, Dict, NamedTuple

from builtin_interfaces.msg import Duration, Time
from darp_ros.control.command_mapping import CommandMapping
from geometry_msgs.msg import PoseStamped, TwistStamped
import numpy as np
from std_msgs.msg import Float64MultiArray
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint


class CommandWriter(NamedTuple):
    """The message class of a command type and the function that fills one in."""

    msg_type: type
    write: Callable[[np.ndarray, Time, CommandMapping, float], object]


def _array(values, stamp, mapping, period):
    return Float64MultiArray(data=values.tolist())


def _trajectory(values, stamp, mapping, period):
    # A zero header stamp tells joint_trajectory_controller to start the trajectory on receipt.
    seconds = mapping.time_from_start_s or period
    point = JointTrajectoryPoint(
        positions=values.tolist(),
        time_from_start=Duration(sec=int(seconds), nanosec=int(round(seconds % 1 * 1e9))))
    return JointTrajectory(joint_names=list(mapping.joint_names), points=[point])


def _twist(values, stamp, mapping, period):
    msg = TwistStamped()
    msg.header.stamp, msg.header.frame_id = stamp, mapping.frame_id
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = map(float, values[:3])
    msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = map(float, values[3:6])
    return msg


def _pose(values, stamp, mapping, period):
    msg = PoseStamped()
    msg.header.stamp, msg.header.frame_id = stamp, mapping.frame_id
    position, orientation = msg.pose.position, msg.pose.orientation
    position.x, position.y, position.z = map(float, values[:3])
    orientation.x, orientation.y, orientation.z, orientation.w = map(float, values[3:7])
    return msg


WRITERS: Dict[str, CommandWriter] = {
    'joint_position': CommandWriter(Float64MultiArray, _array),
    'joint_velocity': CommandWriter(Float64MultiArray, _array),
    'array': CommandWriter(Float64MultiArray, _array),
    'joint_trajectory': CommandWriter(JointTrajectory, _trajectory),
    'twist': CommandWriter(TwistStamped, _twist),
    'pose': CommandWriter(PoseStamped, _pose),
}
