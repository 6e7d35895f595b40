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


"""Binary gripper commands from a continuous action element, with hysteresis."""

import math
from typing import Optional


class GripperHysteresis:
    """
    Close above one threshold, open below another, keep the state in between.

    A policy's gripper output hovers around zero while it hesitates; without the gap between
    the thresholds the gripper would chatter open and shut.
    """

    def __init__(self, close_above: float, open_below: float):
        if not open_below < close_above:
            raise ValueError(f'open_below ({open_below}) must be below close_above '
                             f'({close_above})')
        self.close_above = close_above
        self.open_below = open_below
        self.closed: Optional[bool] = None

    def reset(self) -> None:
        """Forget the state: the next value decides it from the middle of the gap."""
        self.closed = None

    def update(self, value: float) -> Optional[bool]:
        """Return whether the gripper should be closed after seeing value."""
        if not math.isfinite(value):
            return self.closed
        if value > self.close_above:
            self.closed = True
        elif value < self.open_below:
            self.closed = False
        elif self.closed is None:
            self.closed = value > 0.5 * (self.close_above + self.open_below)
        return self.closed
