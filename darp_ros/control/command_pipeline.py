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
From the policy's action to a checked command: the config's mapping, then the safety layer.

The policy node publishes what this returns and the bag evaluator counts what it would have
clipped, so a config means the same command, checked the same way, in both.
"""

from typing import Mapping, Tuple

from darp_ros.control.node_config import NodeConfig
from darp_ros.control.safety import build_filter, FilterResult
from darp_ros.core.errors import ConfigError
import numpy as np

# Values per command, where the command type fixes them.
FIXED_WIDTH = {'twist': 6, 'pose': 7}
# Command types whose safety layer must start from the measured robot state.
NEEDS_STATE = ('joint_position', 'joint_velocity', 'joint_trajectory', 'pose', 'twist')


class CommandPipeline:
    """Map actions to commands and check them; the safety state starts at the first one."""

    def __init__(self, config: NodeConfig, action_dim: int):
        command = config.command
        if command.kind in NEEDS_STATE and not command.state_keys:
            raise ConfigError(f'command.type {command.kind} needs command.state_keys: the '
                              'observation keys that hold the measured state to start from')
        self.command = command
        self.indices = command.indices_for(action_dim, config.gripper_index(action_dim))
        width = FIXED_WIDTH.get(command.kind, len(self.indices))
        if command.kind == 'pose' and command.relative_to and len(self.indices) == 6:
            width = 7
        elif len(self.indices) != width:
            raise ConfigError(f'command.type {command.kind} takes {width} values, the action '
                              f'indices give {len(self.indices)}')
        if command.kind == 'joint_trajectory' and len(command.joint_names) != width:
            raise ConfigError(f'command.joint_names has {len(command.joint_names)} names for '
                              f'{width} joints')
        self.safety = build_filter(command.kind, config.command_limits(), width)
        self.ready = False
        self._resync = False

    def reset(self) -> None:
        """Start again from the next observation's measured state; no hold before it."""
        self.ready = False

    def resync(self) -> None:
        """Restart from the next good measurement, holding from the old state until then."""
        self._resync = True

    def stalled(self) -> None:
        """Note a pause of the stream past a period: position targets stood still meanwhile."""
        self.safety.stalled()

    def apply(self, action: np.ndarray, obs: Mapping[str, np.ndarray],
              dt: float) -> Tuple[np.ndarray, FilterResult]:
        """
        Return the mapped command and what the safety layer makes of it.

        A measured state outside the limits (the arm pushed out of the workspace, a bad
        sensor) holds and says why: commanding from it would drive towards the nearest limit.
        Before the first good measurement there is nothing to hold from: a ValueError.
        """
        state = self.command.state(obs)
        values = self.command.command(action, obs, self.indices)
        problem = self.safety.check_measured(state)
        if problem:
            if not self.ready:
                raise ValueError(problem)
            return values, FilterResult(self.safety.hold(dt).values, (problem,), held=True)
        if not self.ready or self._resync:
            self.safety.reset(state)
            self.ready, self._resync = True, False
        return values, self.safety.apply(values, dt, measured=state)

    def hold(self, dt: float) -> FilterResult:
        """Return the next command of a stop as fast as the limits allow."""
        return self.safety.hold(dt)
