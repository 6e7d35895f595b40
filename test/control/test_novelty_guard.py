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


"""The novelty guard trips above one level, releases below another, and can be off."""

from darp_ros.control.novelty_guard import NoveltyGuard, NoveltyGuardConfig
from darp_ros.core.errors import ConfigError
import pytest


def test_the_guard_holds_between_tripping_and_release():
    guard = NoveltyGuard(NoveltyGuardConfig.of(10.0, 6.0))
    readings = [1.0, 9.9, 10.5, 8.0, 6.5, 5.9, 9.0, 11.0]
    assert [guard.update(r) for r in readings] == [False, False, True, True, True, False,
                                                   False, True]
    guard.reset()
    assert guard.update(9.0) is False


def test_a_nan_reading_holds_and_off_never_holds():
    assert NoveltyGuard(NoveltyGuardConfig.of(10.0, 0.0)).update(float('nan'))
    off = NoveltyGuard(NoveltyGuardConfig.of(0.0, 0.0))
    assert not off.update(1e9) and not off.update(float('nan'))


def test_the_default_release_level_and_a_release_above_the_trip_is_refused():
    assert NoveltyGuardConfig.of(10.0, 0.0).resume_below == pytest.approx(8.0)
    with pytest.raises(ConfigError, match='resume_below'):
        NoveltyGuardConfig.of(5.0, 6.0)
