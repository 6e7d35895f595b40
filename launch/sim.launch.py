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
Launch the robosuite bridge and the policy node, closed loop on sim time.

  ros2 launch darp_ros sim.launch.py [model_dir:=DIR] [episodes:=5] [seed:=100000]
      [mode:=lockstep|realtime]

After its episodes the bridge prints the success summary and exits, and the launch ends
with it (episodes:=0 runs until Ctrl-C).

The bridge simulates the environment recorded in the model bundle; config/sim.yaml maps its
topics onto the bundle and starts the policy node by itself. Episode outcomes are published
on sim/episode.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

PACKAGE = 'darp_ros'
EXECUTABLE = 'policy_node'
BRIDGE_EXECUTABLE = 'robosuite_bridge_node'
DEFAULT_MODEL = 'lift_darp'
SIM_CONFIG = 'sim'
# Parameters the launch file sets on top of the YAML file (checked by the package tests).
LAUNCH_PARAMETERS = ('model_dir',)
BRIDGE_LAUNCH_PARAMETERS = ('env_from', 'episodes', 'seed', 'mode', 'use_sim_time')


def _nodes(context):
    share = get_package_share_directory(PACKAGE)
    model_dir = LaunchConfiguration('model_dir').perform(context)
    overrides = {'model_dir': model_dir}
    bridge_parameters = {
        'env_from': model_dir,
        'episodes': int(LaunchConfiguration('episodes').perform(context)),
        'seed': int(LaunchConfiguration('seed').perform(context)),
        'mode': LaunchConfiguration('mode').perform(context),
        'use_sim_time': True,
    }
    bridge = Node(package=PACKAGE, executable=BRIDGE_EXECUTABLE, name='robosuite_bridge',
                  output='screen', parameters=[bridge_parameters])
    return [
        bridge,
        # The bridge ends after its episodes (printing the success summary): so does the
        # launch, policy node included.
        RegisterEventHandler(OnProcessExit(
            target_action=bridge,
            on_exit=[EmitEvent(event=Shutdown(reason='the episodes are done'))])),
        LifecycleNode(package=PACKAGE, executable=EXECUTABLE, name='policy_node',
                      namespace='', output='screen', emulate_tty=True,
                      parameters=[os.path.join(share, 'config', SIM_CONFIG + '.yaml'),
                                  overrides]),
    ]


def generate_launch_description():
    """Return the launch description: arguments, the bridge and the policy node."""
    share = get_package_share_directory(PACKAGE)
    return LaunchDescription([
        DeclareLaunchArgument(
            'model_dir', default_value=os.path.join(share, 'models', DEFAULT_MODEL),
            description='Model bundle directory; its recorded environment is simulated'),
        DeclareLaunchArgument('episodes', default_value='5',
                              description='Episodes to run (0: no end)'),
        DeclareLaunchArgument('seed', default_value='100000',
                              description='Seed of the first episode'),
        DeclareLaunchArgument('mode', default_value='lockstep',
                              description='lockstep (deterministic) or realtime'),
        OpaqueFunction(function=_nodes),
    ])
