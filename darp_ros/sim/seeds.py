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
The project's one split of environment seeds.

Tuning and checkpoint selection use seeds from TUNING_SEED up; reports use seeds from
REPORTING_SEED up. A tuning range that reaches into the reporting range is refused, so
nothing reported was ever chosen on the seeds it is reported on.
"""

from darp_ros.core.errors import ConfigError

TUNING_SEED = 50_000
REPORTING_SEED = 100_000


def check_tuning_seeds(seed: int, episodes: int) -> None:
    """Raise ConfigError unless seed .. seed + episodes - 1 lies below the reporting seeds."""
    if episodes < 1:
        raise ConfigError(f'tuning episodes must be >= 1, found {episodes}')
    if seed < 0 or seed + episodes > REPORTING_SEED:
        raise ConfigError(f'tuning seeds {seed}..{seed + episodes - 1} must lie in '
                          f'0..{REPORTING_SEED - 1}: seeds from {REPORTING_SEED} on are kept '
                          'for reporting')
