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


"""How an action becomes a command (scaled, offset, relative to a measured state); the gripper."""

from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from darp_ros.core.errors import ConfigError, ObservationError
from darp_ros.core.rotations import apply_rotation_vector, relative_rotation
import numpy as np


@dataclass(frozen=True)
class CommandMapping:
    """How the policy's action vector becomes the command vector the safety layer checks."""

    kind: str
    topic: str
    action_indices: Tuple[int, ...] = ()
    scale: Tuple[float, ...] = ()
    offset: Tuple[float, ...] = ()
    relative_to: Tuple[str, ...] = ()
    state_keys: Tuple[str, ...] = ()
    joint_names: Tuple[str, ...] = ()
    frame_id: str = ''
    time_from_start_s: float = 0.0

    def indices_for(self, action_dim: int, gripper_index: Optional[int]) -> Tuple[int, ...]:
        """Return the action elements used: the configured ones, or all but the gripper's."""
        if self.action_indices:
            return self.action_indices
        return tuple(i for i in range(action_dim) if i != gripper_index)

    def command(self, action: np.ndarray, obs: Mapping[str, np.ndarray],
                indices: Tuple[int, ...]) -> np.ndarray:
        """Return the command vector for one action and the observation it was computed from."""
        values = np.asarray(action, dtype=np.float64)[list(indices)]
        if self.scale:
            values = values * np.asarray(self.scale)
        if self.offset:
            values = values + np.asarray(self.offset)
        if not self.relative_to:
            return values
        base = concatenate(obs, self.relative_to)
        if self.kind == 'pose' and len(values) == 6:
            return np.concatenate([base[:3] + values[:3],
                                   apply_rotation_vector(base[3:7], values[3:6])])
        return base + values

    def action(self, command: np.ndarray, obs: Mapping[str, np.ndarray],
               indices: Tuple[int, ...]) -> np.ndarray:
        """Return the action elements (in indices order) that give command: command()'s inverse."""
        values = np.asarray(command, dtype=np.float64)
        if self.relative_to:
            base = concatenate(obs, self.relative_to)
            if self.kind == 'pose' and len(indices) == 6:
                values = np.concatenate([values[:3] - base[:3],
                                         relative_rotation(base[3:7], values[3:7])])
            else:
                values = values - base
        if self.offset:
            values = values - np.asarray(self.offset)
        if self.scale:
            values = values / np.asarray(self.scale)
        return values

    def state(self, obs: Mapping[str, np.ndarray]) -> Optional[np.ndarray]:
        """Return the measured command-space state, when state keys are configured."""
        return concatenate(obs, self.state_keys) if self.state_keys else None


@dataclass(frozen=True)
class GripperMapping:
    """Open/close from one action element, with hysteresis so the gripper does not chatter."""

    enabled: bool = False
    action_index: int = -1
    close_above: float = 0.5
    open_below: float = -0.5
    output: str = 'width'
    topic: str = 'gripper/width'
    open_action: str = ''
    close_action: str = ''
    speed: float = 0.1
    force: float = 20.0
    epsilon: float = 0.08
    open_width: float = 0.08
    closed_width: float = 0.0

    def actions(self) -> Tuple[Tuple[str, str], Tuple[str, str]]:
        """Return ((server, type) to open, (server, type) to close), for output 'action'."""
        opening = _server_and_type('gripper.open_action', self.open_action)
        closing = _server_and_type('gripper.close_action', self.close_action) \
            if self.close_action else opening
        return opening, closing


def _server_and_type(name: str, value: str) -> Tuple[str, str]:
    parts = value.split()
    if len(parts) != 2 or parts[1].count('/') != 2:
        raise ConfigError(f'{name} must be "SERVER PACKAGE/action/TYPE", got {value!r}')
    return parts[0], parts[1]


def concatenate(obs: Mapping[str, np.ndarray], keys: Tuple[str, ...]) -> np.ndarray:
    """Return the named observation values as one flat float64 vector."""
    try:
        return np.concatenate([np.asarray(obs[k], dtype=np.float64).ravel() for k in keys])
    except KeyError as exc:
        raise ObservationError(f'observation has no key {exc.args[0]!r}') from None
