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
Per-axis velocity windows: how fast each axis may move next cycle without breaking a limit.

Commands are a discrete stream: a step at velocity w moves w*dt, and the fastest stop after
it slows by acceleration*dt per cycle. The braking bound below is exact for that stream, so
an axis that starts at rest inside its limits can always stop before crossing one, and the
window of allowed velocities is never empty while dt stays the same.
"""

from typing import List, Optional, Sequence, Tuple

from darp_ros.control.safety.limits import AxisLimits
import numpy as np

# Neighbours of the real-valued minimiser checked in braking_speed; the spread covers
# round-off in the square root, which could otherwise move floor() by one.
_OFFSETS = (-1.0, 0.0, 1.0, 2.0)


def braking_speed(distance: np.ndarray, acceleration: np.ndarray, dt: float) -> np.ndarray:
    """
    Return the largest velocity from which each axis can still stop within `distance`.

    Stopping from w takes m = ceil(w / (a*dt)) steps covering dt*(m*w - a*dt*m*(m-1)/2), so
    the bound is min over m >= 1 of distance/(m*dt) + a*dt*(m-1)/2. That is convex in m, with
    its real minimum at sqrt(2*distance / (a*dt^2)); the integers around it give the exact
    bound. A negative distance (already past the limit) counts as zero.
    """
    gap = np.maximum(np.asarray(distance, dtype=np.float64), 0.0)
    quantum = acceleration * dt * dt
    centre = np.floor(np.sqrt(2.0 * gap / quantum))
    best = np.full(gap.shape, np.inf)
    for offset in _OFFSETS:
        steps = np.maximum(centre + offset, 1.0)
        best = np.minimum(best, gap / (steps * dt) + acceleration * dt * (steps - 1.0) / 2.0)
    return best


def changed(chosen: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Return where the chosen values differ from the wanted ones by more than round-off."""
    with np.errstate(invalid='ignore', over='ignore'):
        return np.abs(chosen - wanted) > 1e-9 * (1.0 + np.abs(chosen))


class AxisKinematics:
    """The limits of a set of axes as arrays, and the velocity each may take next cycle."""

    def __init__(self, limits: AxisLimits, labels: Optional[Sequence[str]] = None):
        self.dim = limits.dim
        self.lower = np.array(limits.lower)
        self.upper = np.array(limits.upper)
        self.velocity = np.array(limits.velocity)
        self.acceleration = np.array(limits.acceleration)
        self.max_step = (np.full(self.dim, np.inf) if limits.max_step is None
                         else np.array(limits.max_step))
        self.labels = (tuple(labels) if labels is not None
                       else tuple(f'axis {axis}' for axis in range(self.dim)))

    def check_position(self, owner: str, position: np.ndarray) -> None:
        """Raise a ValueError naming the first axis whose position is non-finite or outside."""
        for axis, value in enumerate(position):
            if not np.isfinite(value):
                raise ValueError(f'{owner}: {self.labels[axis]} position is {value}, '
                                 'not a finite number')
            if not self.lower[axis] <= value <= self.upper[axis]:
                raise ValueError(f'{owner}: {self.labels[axis]} position {value} is outside '
                                 f'the limits [{self.lower[axis]}, {self.upper[axis]}]')

    def choose(self, wanted: np.ndarray, position: np.ndarray, velocity: np.ndarray,
               dt: float, measured: Optional[np.ndarray] = None) -> Tuple[np.ndarray, List[str]]:
        """
        Return the allowed velocity nearest to `wanted`, and the limits that changed it.

        `measured` is a second estimate of the position (a measurement, which lags a moving
        axis, beside the integral of the commands, which runs ahead of a blocked one): each
        limit is then judged from whichever of the two is nearer to it.

        The window is the intersection of the acceleration band around `velocity`, the
        velocity and step bounds, and the braking bounds towards both position limits.
        Should round-off or a change of dt leave it empty, the acceleration band wins: a
        velocity jump trips the arm's reflex, so the axis brakes as hard as it may instead;
        except over the step bound, which holds always (a command that arrives after a
        longer gap than the last may still move no more than max_step, so the axis slows
        harder than its acceleration: moving less never crosses a position limit).
        """
        step_speed = self.max_step / dt
        high = position if measured is None else np.maximum(position, measured)
        low = position if measured is None else np.minimum(position, measured)
        up = braking_speed(self.upper - high, self.acceleration, dt)
        down = braking_speed(low - self.lower, self.acceleration, dt)
        kin_hi = np.minimum(np.minimum(self.velocity, step_speed), up)
        kin_lo = np.maximum(np.maximum(-self.velocity, -step_speed), -down)
        acc_hi = velocity + self.acceleration * dt
        acc_lo = velocity - self.acceleration * dt
        hi = np.minimum(kin_hi, acc_hi)
        lo = np.maximum(kin_lo, acc_lo)
        feasible = lo <= hi
        braking = np.clip(np.clip(velocity, kin_lo, kin_hi), acc_lo, acc_hi)
        fallback = np.clip(braking, -step_speed, step_speed)    # the step bound holds always
        chosen = np.where(feasible, np.clip(wanted, lo, hi), fallback)

        reasons = []
        for axis in np.flatnonzero(changed(chosen, wanted)):
            value = chosen[axis]
            if wanted[axis] > value:
                bounds = (('position', up[axis]), ('velocity', self.velocity[axis]),
                          ('step', step_speed[axis]), ('acceleration', acc_hi[axis]))
            else:
                bounds = (('position', -down[axis]), ('velocity', -self.velocity[axis]),
                          ('step', -step_speed[axis]), ('acceleration', acc_lo[axis]))
            tolerance = 1e-9 * (1.0 + abs(value))
            kind = next((name for name, bound in bounds if abs(value - bound) <= tolerance),
                        'acceleration')
            reasons.append(f'{kind} limit on {self.labels[axis]}')
            if not feasible[axis]:
                reasons.append(f'conflicting limits on {self.labels[axis]}')
        return chosen, reasons
