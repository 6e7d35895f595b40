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
The gripper's open/close decision as a ROS output: a width topic or action goals.

franka_ros2 grippers take actions (move, grasp); simpler grippers and the simulator a width.
Goals are sent only when the decision changes, and never waited for: the control loop must
not block on a gripper that takes a second to close.
"""

import importlib

from darp_ros.control.command_mapping import GripperMapping
from darp_ros.core.errors import ConfigError
from darp_ros.ros.qos import latched_qos
from rclpy.action import ActionClient
from rclpy.node import Node
from std_msgs.msg import Float64


def import_action(name: str):
    """Return the action class named 'package/action/Type', or a ConfigError saying why not."""
    package, _, type_name = name.split('/')
    try:
        return getattr(importlib.import_module(f'{package}.action'), type_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f'gripper action type {name} cannot be imported ({exc}): is its '
                          'package installed (franka_msgs: franka_ros2) and its workspace '
                          'sourced? Without it, set gripper.output: width') from None


def fill_goal(goal, width: float, mapping: GripperMapping):
    """Set the goal fields a gripper action has: width, speed, force, epsilon."""
    for field, value in (('width', width), ('speed', mapping.speed),
                         ('force', mapping.force)):
        if hasattr(goal, field):
            setattr(goal, field, float(value))
    if hasattr(goal, 'epsilon'):
        goal.epsilon.inner = goal.epsilon.outer = float(mapping.epsilon)
    return goal


class GripperOutput:
    """Publish the gripper decision the way the config names."""

    def __init__(self, node: Node, mapping: GripperMapping):
        self.node = node
        self.mapping = mapping
        self.publisher = None
        self.clients = {}
        if mapping.output == 'width':
            self.publisher = node.create_publisher(Float64, mapping.topic, latched_qos())
            return
        opening, closing = mapping.actions()
        for closed, (server, type_name) in ((False, opening), (True, closing)):
            action = import_action(type_name)
            self.clients[closed] = (ActionClient(node, action, server), action, server)

    def send(self, closed: bool) -> None:
        """Command the gripper open (closed False) or closed."""
        width = self.mapping.closed_width if closed else self.mapping.open_width
        if self.publisher is not None:
            self.publisher.publish(Float64(data=float(width)))
            return
        client, action, server = self.clients[closed]
        if not client.server_is_ready():
            self.node.get_logger().warning(
                f'gripper action server {server} is not available: the gripper '
                f'stays {"open" if closed else "closed"}', throttle_duration_sec=1.0)
            return
        client.send_goal_async(fill_goal(action.Goal(), width, self.mapping))

    def destroy(self) -> None:
        """Release the publisher or the action clients."""
        if self.publisher is not None:
            self.node.destroy_publisher(self.publisher)
        for client, _, _ in self.clients.values():
            client.destroy()
