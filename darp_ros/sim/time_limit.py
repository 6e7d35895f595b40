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
A tuning worker's wall-clock allowance (`darp tune --stop-after MINUTES`).

Studies on two cores run for hours, across sittings that end at a fixed time. A worker
killed in the middle of a trial loses it: the trial counts as failed and its core-minutes
are gone (robosuite DARP trials take up to 35). A worker that stops starting work in time
loses nothing, and the study resumes where it stopped. The allowance admits the next piece
of work only if its expected length, the study's pace so far, still ends in time.
"""

import time
from typing import Callable, Optional

from darp_ros.core.errors import ConfigError


class TimeLimit:
    """Admit work while it is expected to end within the allowance; remember a refusal."""

    def __init__(self, minutes: Optional[float] = None, clock: Callable = time.monotonic):
        # minutes None: no allowance, everything is admitted.
        if minutes is not None and not minutes >= 0:
            raise ConfigError(f'a time limit needs minutes >= 0, got {minutes}')
        self._clock = clock
        self._end = None if minutes is None else clock() + 60.0 * minutes
        self.refused = False

    def allows(self, expected_seconds: float) -> bool:
        """Return whether work of expected_seconds ends in time; after one refusal, never."""
        if self._end is None:
            return True
        if self._clock() + expected_seconds > self._end:
            self.refused = True
        return not self.refused


def typical_trial_seconds(study) -> float:
    """Return the mean seconds of the study's finished trials; 0 before the first ends."""
    import optuna
    finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    seconds = [t.user_attrs['seconds'] for t in finished if 'seconds' in t.user_attrs]
    return sum(seconds) / len(seconds) if seconds else 0.0


def stop_at_time_limit(limit: TimeLimit) -> Callable:
    """Return an Optuna callback: stop the study once the next trial would overrun limit."""
    def check(study, trial) -> None:
        if not limit.allows(typical_trial_seconds(study)):
            study.stop()
    return check
