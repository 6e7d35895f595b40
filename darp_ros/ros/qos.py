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


"""Quality-of-service profiles of the policy node's topics."""

from darp_ros.control.input_mapping import InputMapping
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)


def input_qos(mapping: InputMapping) -> QoSProfile:
    """
    Return the subscription QoS of an input.

    Best effort accepts both kinds of publisher (Franka's convenience topics are best effort,
    and a reliable subscriber would receive nothing from them); cameras keep only the newest
    frame, as the sensor-data profile does.
    """
    if mapping.is_image and not mapping.reliability and not mapping.depth:
        return qos_profile_sensor_data
    reliability = (ReliabilityPolicy.BEST_EFFORT if mapping.best_effort
                   else ReliabilityPolicy.RELIABLE)
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=mapping.history_depth,
                      reliability=reliability, durability=DurabilityPolicy.VOLATILE)


def command_qos() -> QoSProfile:
    """Return the command QoS: reliable, only the newest command matters."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                      reliability=ReliabilityPolicy.RELIABLE)


def latched_qos() -> QoSProfile:
    """Return a QoS that hands the last message to late subscribers (gripper state)."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)
