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
The command safety layer between a policy's output and every publisher of the policy node.

Each filter is called once per control cycle; every value it returns (holds, the first
command after reset and the answer to NaN included) respects every configured limit.
"""

from darp_ros.control.safety.axis_filter import PositionFilter
from darp_ros.control.safety.base import CommandFilter, FilterResult, NON_FINITE
from darp_ros.control.safety.box_filter import BoxFilter
from darp_ros.control.safety.cartesian_filters import PoseFilter, TwistFilter
from darp_ros.control.safety.factory import build_filter, COMMAND_KINDS
from darp_ros.control.safety.limits import AxisLimits, CartesianLimits
from darp_ros.control.safety.velocity_filter import VelocityFilter

__all__ = ['AxisLimits', 'BoxFilter', 'build_filter', 'CartesianLimits', 'COMMAND_KINDS',
           'CommandFilter', 'FilterResult', 'NON_FINITE', 'PoseFilter', 'PositionFilter',
           'TwistFilter', 'VelocityFilter']
