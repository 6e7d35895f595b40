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
Commands found in a recording (what a teleoperator or an earlier policy actually sent).

A command logged within one control period after a tick is taken as the answer to that
tick's observation: the same pairing for comparing with a new model (bag-eval) and for
turning a recording into training samples (bag2hdf5).
"""

from dataclasses import dataclass
from typing import Callable, List, Optional

from darp_ros.bags.reader import BagReader
from darp_ros.core.errors import DatasetError
import numpy as np


def command_values(msg) -> np.ndarray:
    """Return a recorded command message as the vector the node would have published."""
    if hasattr(msg, 'points'):                      # trajectory_msgs/JointTrajectory
        return np.asarray(msg.points[0].positions, float) if len(msg.points) else np.empty(0)
    if hasattr(msg, 'twist'):                       # geometry_msgs/TwistStamped
        t = msg.twist
        return np.array([t.linear.x, t.linear.y, t.linear.z,
                         t.angular.x, t.angular.y, t.angular.z])
    if hasattr(msg, 'pose'):                        # geometry_msgs/PoseStamped
        p, q = msg.pose.position, msg.pose.orientation
        return np.array([p.x, p.y, p.z, q.x, q.y, q.z, q.w])
    data = getattr(msg, 'data', None)               # std_msgs/Float64MultiArray or Float64
    if data is None:
        raise TypeError(f'{type(msg).__name__} is not a command message this package reads')
    return np.atleast_1d(np.asarray(data, float))


@dataclass
class RecordedTopic:
    """One topic's values in log-time order."""

    topic: str
    times_s: np.ndarray
    values: List[np.ndarray]

    def answer_index(self, t: float, period_s: float) -> Optional[int]:
        """Return the index of the first value logged in (t, t + period_s]: tick t's reply."""
        i = int(np.searchsorted(self.times_s, t, side='right'))
        return i if i < len(self.values) and self.times_s[i] <= t + period_s else None

    def answer_to(self, t: float, period_s: float) -> Optional[np.ndarray]:
        """Return the first value logged in (t, t + period_s]: the reply to tick t."""
        i = self.answer_index(t, period_s)
        return None if i is None else self.values[i]

    def latest_at(self, t: float) -> Optional[np.ndarray]:
        """Return the newest value logged at or before t (a latched setting, like a gripper)."""
        i = int(np.searchsorted(self.times_s, t, side='right'))
        return self.values[i - 1] if i else None


def read_topic(reader: BagReader, topic: str,
               values: Callable[[object], np.ndarray] = command_values) -> RecordedTopic:
    """Read every message of topic as a vector; a message that is not one names itself."""
    times, vectors = [], []
    for message in reader.messages([topic]):
        try:
            vector = values(message.msg)
        except (TypeError, ValueError, AttributeError, IndexError) as exc:
            raise DatasetError(f'{reader.path}: topic {topic} message {message.index}: '
                               f'not a command ({exc})') from None
        if not np.all(np.isfinite(vector)):
            raise DatasetError(f'{reader.path}: topic {topic} message {message.index}: '
                               f'non-finite command {vector.tolist()}')
        times.append(message.log_time_s)
        vectors.append(vector)
    return RecordedTopic(topic, np.asarray(times, float), vectors)
