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
A scripted expert as a list of phases, each a pose to reach while holding a gripper state.

Targets are functions of the simulator state, evaluated every step, so a phase tracks an
object that moves (a cube that slipped, a can that rolled).
"""

from dataclasses import dataclass
from typing import Callable, List, Optional, Union

from darp_ros.sim.experts.pose import eef_pose, osc_action, yaw_matrix
import numpy as np

YawTarget = Union[None, float, Callable[[object], float]]


@dataclass
class Phase:
    """Move to target(env) with the gripper at gripper; done when near it for hold steps."""

    name: str
    target: Callable[[object], np.ndarray]
    gripper: float
    tolerance: float = 0.01
    hold: int = 0                   # extra steps once reached (gripper closing, settling)
    timeout: int = 120              # steps before the expert gives up on this phase
    # Gripper yaw relative to its start, fixed or read from the simulator; None keeps the last.
    yaw: YawTarget = None
    # A condition the phase needs (the object still in hand); the expert gives up without it.
    guard: Optional[Callable[[object], bool]] = None


class PhaseExpert:
    """Run phases in order; the expert gives up when a phase times out or loses its guard."""

    def __init__(self, phases: List[Phase], start_rot: np.ndarray, speed: float,
                 noise: float, rng: np.random.Generator):
        self.phases = phases
        self.start_rot = start_rot
        self.speed = speed
        self.noise = noise
        self.rng = rng
        self.index = 0
        self.steps_in_phase = 0
        self.steps_reached = 0
        self.yaw = 0.0
        self._lost = False

    @property
    def phase(self) -> Optional[Phase]:
        """Return the current phase, or None once all are done."""
        return self.phases[self.index] if self.index < len(self.phases) else None

    @property
    def failed(self) -> bool:
        """Return True when a phase ran out of time or lost what it needed."""
        return self._lost

    def act(self, env) -> np.ndarray:
        """Return the next action (7,)."""
        phase = self.phase or self.phases[-1]
        if phase.yaw is not None:
            self.yaw = phase.yaw(env) if callable(phase.yaw) else phase.yaw
        if self.phase is not None and (self.steps_in_phase > phase.timeout
                                       or (phase.guard is not None and not phase.guard(env))):
            self._lost = True
        target = phase.target(env)
        rot = yaw_matrix(self.yaw) @ self.start_rot
        action = osc_action(env, target, rot, phase.gripper, self.speed)
        if self.noise > 0:
            action[:6] += self.rng.normal(0.0, self.noise, 6)
        self._advance(env, target, phase)
        return np.clip(action, -1.0, 1.0)

    def _advance(self, env, target: np.ndarray, phase: Phase) -> None:
        if self.phase is None:
            return
        self.steps_in_phase += 1
        pos, _ = eef_pose(env)
        if np.linalg.norm(target - pos) < phase.tolerance or self.steps_reached:
            self.steps_reached += 1
        if self.steps_reached > phase.hold:
            self.index += 1
            self.steps_in_phase = self.steps_reached = 0
