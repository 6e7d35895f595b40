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


"""Per-axis velocity commands limited so the integrated motion respects every axis limit."""

from typing import List, Optional, Sequence, Tuple

from darp_ros.control.safety.axis_filter import AxisStateFilter
import numpy as np


class VelocityFilter(AxisStateFilter):
    """
    Limit velocity commands by acceleration, velocity, step and braking towards the limits.

    The position used for braking is the integral of the returned velocities, checked
    against `measured` positions whenever they are given and finite, so drift cannot creep
    past a limit. A measurement is up to an input age old, so it lags a moving axis, and
    an axis that just stopped is further along than it says: each limit is judged from
    whichever of the two positions is nearer to it, and the integral only moves back to the
    measurement once the axis heads the other way (or has never moved since reset).
    """

    def reset(self, current) -> None:
        """Start at rest from the measured positions, with no direction of motion yet."""
        super().reset(current)
        self._heading = np.zeros(self.dim)

    def _output(self) -> np.ndarray:
        return self._velocity.copy()

    def _step(self, command: np.ndarray, dt: float,
              measured: Optional[np.ndarray]) -> Tuple[np.ndarray, Sequence[str]]:
        reasons = []
        if measured is not None:
            measured = self.vector(measured, 'measured')
            if np.isfinite(measured).all():
                kin = self.kinematics
                outside = (measured < kin.lower) | (measured > kin.upper)
                reasons += [f'measured position outside limits on {kin.labels[axis]}'
                            for axis in np.flatnonzero(outside)]
                ahead = np.where(self._heading > 0, np.maximum(measured, self._position),
                                 np.minimum(measured, self._position))
                self._position = np.where(self._heading == 0, measured, ahead)
                self._measured = measured
            else:
                reasons.append('non-finite measurement ignored')
        reasons += self._advance(command, dt)
        return self._output(), reasons

    def _advance(self, wanted: np.ndarray, dt: float) -> List[str]:
        reasons = super()._advance(wanted, dt)
        # Where each axis last moved: at rest it keeps the direction it stopped in.
        self._heading = np.where(self._velocity != 0, np.sign(self._velocity), self._heading)
        return reasons
