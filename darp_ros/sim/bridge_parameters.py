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
The robosuite bridge's parameters: which simulation to run, how it steps, where it publishes.

A plain table (no ROS import), so launch files and tests can check names against it.
"""

from darp_ros.control.node_parameters import ParameterSpec


def _p(name, kind, default, description, **extra) -> ParameterSpec:
    return ParameterSpec(name, kind, default, description, **extra)


BRIDGE_PARAMETERS = (
    _p('env_from', 'string', '',
       'A model bundle directory or HDF5 dataset whose recorded env_args to simulate'),
    _p('task', 'string', 'Lift', 'robosuite task, when env_from is empty'),
    _p('cameras', 'string_array', None, 'Cameras to render, when env_from is empty'),
    _p('image_size', 'integer', 84, 'Camera image size, when env_from is empty', low=8,
       high=1024),
    _p('seed', 'integer', 100000, 'Seed of the first episode; episode i uses seed + i',
       low=0),
    _p('next_seed', 'integer', -1,
       'Seed the next reset (service ~/reset) starts from; -1: the following seed',
       low=-1, read_only=False),
    _p('episodes', 'integer', 0, 'Episodes to run, then stop publishing; 0: no end', low=0),
    _p('horizon', 'integer', 0, "Steps per episode; 0: the task's evaluation horizon", low=0),
    _p('placement_scale', 'double', 1.0,
       'Widen (> 1) the range of initial object placements', low=0.01, high=10.0),
    _p('mode', 'string', 'lockstep',
       'lockstep: step when the command for the current observation arrives; realtime: '
       'step at the control rate', choices=('lockstep', 'realtime')),
    _p('republish_s', 'double', 0.5,
       'Lockstep: republish the current observation after this long (wall) without a '
       'command, for a policy that joined late', low=0.01, high=60.0),
    _p('action_topic', 'string', 'sim/action', 'Raw action topic (std_msgs/Float64MultiArray)'),
    _p('prefix', 'string', 'sim', 'Prefix of the observation topics'),
    _p('frame_id', 'string', 'world', 'Frame of the published poses and images'),
    _p('policy_reset_service', 'string', 'policy_node/reset',
       "std_srvs/Trigger called before each episode, so the policy's history starts anew "
       "(the policy node's ~/reset); empty: none. Skipped while nobody offers it"),
)
