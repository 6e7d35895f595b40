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

"""Where bag2hdf5 and bag-eval start an episode: after an end marker, or after a gap."""

from darp_ros.bags.episode_split import EpisodeBoundaries, parse_split
from darp_ros.core.errors import ConfigError
import pytest


def starts(boundaries, ticks):
    return [boundaries.starts_episode(*tick) if isinstance(tick, tuple)
            else boundaries.starts_episode(tick) for tick in ticks]


def test_split_is_a_gap_in_seconds_or_a_marker_topic():
    assert parse_split('') is None
    assert parse_split('0.5') == 0.5
    assert parse_split('/episode_end') == '/episode_end'
    with pytest.raises(ConfigError, match='positive number of seconds, got -1'):
        parse_split('-1')


def test_a_marker_ends_the_episode_of_the_ticks_before_it():
    boundaries = EpisodeBoundaries('/end', marks=[0.25, 0.55])
    ticks = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    assert starts(boundaries, ticks) == [False, False, False, True, False, False, True]


def test_markers_before_the_first_tick_start_no_empty_episode():
    boundaries = EpisodeBoundaries('/end', marks=[0.01, 0.02])
    assert starts(boundaries, [0.1, 0.2]) == [False, False]


def test_the_marker_is_compared_with_the_answering_command_when_given():
    # The end marker comes with the final command (0.2), before the tick it answers (0.25).
    boundaries = EpisodeBoundaries('/end', marks=[0.2])
    assert starts(boundaries, [(0.15, 0.1), (0.25, 0.2), (0.35, 0.3)]) == [False, False, True]


def test_a_gap_longer_than_the_split_starts_an_episode():
    boundaries = EpisodeBoundaries(0.5)
    assert starts(boundaries, [0.0, 0.1, 0.7, 0.8, 1.2]) == [False, False, True, False, False]


def test_without_a_split_a_bag_is_one_episode():
    assert not any(starts(EpisodeBoundaries(None), [0.0, 5.0, 100.0]))
