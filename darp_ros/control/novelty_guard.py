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
The novelty guard: hold instead of commanding while the inputs look unlike the demonstrations.

A retrieval policy far from every demonstration state averages actions that were recorded
somewhere else; commanding them at full authority is what a safety engineer objects to. The
guard trips above one novelty level and releases below a lower one, so a state hovering at
the threshold does not toggle the arm between moving and holding every cycle.
"""

from dataclasses import dataclass

from darp_ros.core.errors import ConfigError

# Without an explicit resume level, release at this fraction of the trip level.
DEFAULT_RESUME_FRACTION = 0.8


@dataclass(frozen=True)
class NoveltyGuardConfig:
    """Trip above hold_above, release below resume_below; hold_above 0 turns the guard off."""

    hold_above: float = 0.0
    resume_below: float = 0.0

    @classmethod
    def of(cls, hold_above: float, resume_below: float) -> 'NoveltyGuardConfig':
        """Return the config with the default resume level filled in, or raise ConfigError."""
        if hold_above and not resume_below:
            resume_below = DEFAULT_RESUME_FRACTION * hold_above
        if hold_above and resume_below > hold_above:
            raise ConfigError(f'novelty_guard.resume_below ({resume_below:g}) must not be above '
                              f'novelty_guard.hold_above ({hold_above:g}): the gap between '
                              'them is the hysteresis')
        return cls(float(hold_above), float(resume_below))

    @property
    def enabled(self) -> bool:
        """Return whether the guard can trip at all."""
        return self.hold_above > 0.0


class NoveltyGuard:
    """Track whether the guard is holding, one novelty reading per control step."""

    def __init__(self, config: NoveltyGuardConfig):
        self.config = config
        self.holding = False

    def reset(self) -> None:
        """Forget the trip state (a new episode, a new activation)."""
        self.holding = False

    def update(self, novelty: float) -> bool:
        """Return whether to hold after this reading (a NaN reading holds)."""
        if not self.config.enabled:
            return False
        if novelty != novelty:
            self.holding = True
        elif self.holding:
            self.holding = novelty >= self.config.resume_below
        else:
            self.holding = novelty > self.config.hold_above
        return self.holding

    def reason(self, novelty: float) -> str:
        """Return the log text for a hold at this reading."""
        return (f'novelty guard: novelty {novelty:.2f} (1 is typical of the demonstrations) '
                f'tripped above {self.config.hold_above:g}; commanding again below '
                f'{self.config.resume_below:g}')
