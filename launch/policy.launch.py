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
Launch the DARP policy node.

  ros2 launch darp_ros policy.launch.py [model_dir:=DIR] [robot_config:=franka_fr3|PATH]
      [use_sim:=false] [namespace:=NS] [autostart:=auto] [record:=false] [bag:=PATH]

robot_config names a file in share/darp_ros/config (franka_fr3, franka_panda) or is a path
to your own. use_sim:=true reads config/sim.yaml, runs on sim time and starts the robosuite
bridge on the environment the model was trained in (as sim.launch.py does). The node is a
lifecycle node: on the robot it waits for `ros2 lifecycle set <node> configure` and
`activate` unless autostart:=true; in simulation it starts by itself. record:=true records
every topic to an mcap bag.
"""

import importlib.util
import os
import shutil

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

PACKAGE = 'darp_ros'
EXECUTABLE = 'policy_node'
BRIDGE_EXECUTABLE = 'robosuite_bridge_node'
NODE_NAME = 'policy_node'
DEFAULT_MODEL = 'lift_darp'
DEFAULT_ROBOT_CONFIG = 'franka_fr3'
SIM_CONFIG = 'sim'
# Parameters the launch file sets on top of the YAML file (checked by the package tests).
LAUNCH_PARAMETERS = ('model_dir', 'autostart', 'use_sim_time')


def _config_path(share: str, name: str) -> str:
    """Return a config file path from a name in share/config or a path as given."""
    if name.endswith('.yaml') or os.sep in name:
        return name
    return os.path.join(share, 'config', name + '.yaml')


def _policy_node(context):
    share = get_package_share_directory(PACKAGE)
    use_sim = LaunchConfiguration('use_sim').perform(context).lower() == 'true'
    config = SIM_CONFIG if use_sim else LaunchConfiguration('robot_config').perform(context)
    autostart = LaunchConfiguration('autostart').perform(context).lower()
    overrides = {
        'model_dir': LaunchConfiguration('model_dir').perform(context),
        'autostart': use_sim if autostart == 'auto' else autostart == 'true',
        'use_sim_time': use_sim,
    }
    nodes = [LifecycleNode(
        package=PACKAGE, executable=EXECUTABLE, name=NODE_NAME,
        namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
        parameters=[_config_path(share, config), overrides])]
    if use_sim:
        bridge_parameters = {'env_from': overrides['model_dir'], 'use_sim_time': True}
        nodes.append(Node(package=PACKAGE, executable=BRIDGE_EXECUTABLE,
                          name='robosuite_bridge', namespace=LaunchConfiguration('namespace'),
                          output='screen', parameters=[bridge_parameters]))
    return nodes


def _recorder(context):
    """Return the `ros2 bag record` process when record:=true; refuse loudly without it."""
    if LaunchConfiguration('record').perform(context).lower() != 'true':
        return []
    # Recording that was asked for must not silently be missing from the run.
    if shutil.which('ros2') is None or importlib.util.find_spec('ros2bag') is None:
        raise RuntimeError('record:=true needs `ros2 bag` with mcap storage: sudo apt install '
                           'ros-jazzy-rosbag2 ros-jazzy-rosbag2-storage-mcap (or run without '
                           'record:=true; `darp sim --record` records without it)')
    return [ExecuteProcess(
        cmd=['ros2', 'bag', 'record', '--all', '--storage', 'mcap', '--output',
             LaunchConfiguration('bag').perform(context)],
        output='screen')]


def generate_launch_description():
    """Return the launch description: arguments, the policy node, optional recording."""
    share = get_package_share_directory(PACKAGE)
    return LaunchDescription([
        DeclareLaunchArgument(
            'model_dir', default_value=os.path.join(share, 'models', DEFAULT_MODEL),
            description='Model bundle directory (darp train --out)'),
        DeclareLaunchArgument(
            'robot_config', default_value=DEFAULT_ROBOT_CONFIG,
            description='Robot config: franka_fr3, franka_panda, or a path to a YAML file'),
        DeclareLaunchArgument('use_sim', default_value='false',
                              description='Run against the robosuite bridge on sim time'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node and its relative topics'),
        DeclareLaunchArgument(
            'autostart', default_value='auto',
            description='Configure and activate at start: true, false, or auto (sim only)'),
        DeclareLaunchArgument('record', default_value='false',
                              description='Record every topic to an mcap bag'),
        DeclareLaunchArgument('bag', default_value='darp_policy_bag',
                              description='Output directory of the recorded bag'),
        OpaqueFunction(function=_policy_node),
        OpaqueFunction(function=_recorder),
    ])
