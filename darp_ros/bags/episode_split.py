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
Where a recording's episodes begin: after an end-marker message, or after a gap in the ticks.

bag2hdf5 cuts its training episodes and bag-eval restarts the policy's history at the same
places, so both read an --episode-split the same way.
"""

import math
from typing import Union

from darp_ros.bags.reader import BagReader
from darp_ros.core.errors import ConfigError
import numpy as np


def parse_split(value: str) -> Union[None, float, str]:
    """Return None (one episode per bag), a gap in seconds, or a marker topic."""
    if not value:
        return None
    try:
        gap = float(value)
    except ValueError:
        return value
    if not gap > 0 or not math.isfinite(gap):
        raise ConfigError(f'--episode-split: a gap must be a positive number of seconds, '
                          f'got {value}')
    return gap


def marker_times(reader: BagReader, split) -> np.ndarray:
    """Return the log times of the marker topic's messages (none unless split is a topic)."""
    if not isinstance(split, str):
        return np.empty(0)
    return np.array([m.log_time_s for m in reader.messages([split])])


class EpisodeBoundaries:
    """Says, tick by tick, whether a tick starts a new episode; the first tick never does."""

    def __init__(self, split, marks=()):
        """Split is parse_split's result; marks the marker times, ascending (seconds)."""
        self.split = split
        self.marks = np.asarray(marks, dtype=float)
        self._episode = 0       # markers seen up to the last tick
        self._last_s = None     # time of the last tick

    @classmethod
    def of(cls, reader: BagReader, split) -> 'EpisodeBoundaries':
        """Return the boundaries of one bag: its marker topic read when split names one."""
        return cls(split, marker_times(reader, split))

    def starts_episode(self, tick_s: float, marked_s: float = None) -> bool:
        """
        Return whether the tick at tick_s begins an episode, and note it as the last tick.

        marked_s (default tick_s) is the time compared with the markers: bag2hdf5 passes the
        time of the command that answers the tick, since a simulator or a teleop tool marks
        the end right after the final command, at the same clock reading.
        """
        # Markers strictly before the compared time: one at the same reading ends the
        # episode that the command (or tick) at that reading belongs to.
        marked = int(np.searchsorted(self.marks, tick_s if marked_s is None else marked_s,
                                     side='left'))
        gap = (isinstance(self.split, float) and self._last_s is not None
               and tick_s - self._last_s > self.split)
        starts = self._last_s is not None and (marked != self._episode or gap)
        self._episode, self._last_s = marked, tick_s
        return starts
