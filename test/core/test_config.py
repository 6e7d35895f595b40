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

"""Policy configs from JSON: unknown keys and wrong types are named, never silently accepted."""

from darp_ros.core.config import config_from_dict, config_to_dict
from darp_ros.core.errors import ConfigError
from darp_ros.core.policies.darp import DARPConfig
import pytest


def test_round_trip_keeps_tuples():
    config = DARPConfig(k=4, hidden=(64, 32), exclude_own_episode=True)
    assert config_from_dict(DARPConfig, config_to_dict(config)) == config


@pytest.mark.parametrize('data,message', [
    ({'colour': 'red'}, r"unknown option\(s\) \['colour'\]"),
    ({'k': True}, 'DARPConfig.k: expected int, got True'),
    ({'k': 'eight'}, 'DARPConfig.k: expected int'),
    ({'exclude_own_episode': 1}, 'expected true/false'),
    ({'aggregator': 'median'}, "aggregator must be 'mean' or 'set'"),
    ({'k': 0}, 'k must be >= 1'),
])
def test_bad_values_are_named(data, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(DARPConfig, data)
