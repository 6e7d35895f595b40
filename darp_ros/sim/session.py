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
One robosuite environment driven from outside, one step at a time: what the ROS bridge runs.

The in-process evaluator runs an agent inside its loop; the bridge cannot, because the
policy lives in another node. This object keeps the episode bookkeeping (seed, step,
success, horizon) and the action checks in one ROS-free place.
"""

from dataclasses import dataclass
from typing import Dict, Mapping, Optional

from darp_ros.core.errors import ObservationError
from darp_ros.sim.environment import build_env, camera_names, reset_with_seed
from darp_ros.sim.observations import dataset_obs
from darp_ros.sim.tasks import task_spec
import numpy as np


@dataclass(frozen=True)
class EpisodeStatus:
    """Where the current episode stands."""

    seed: Optional[int]
    steps: int
    horizon: int
    success: bool
    done: bool


class SimSession:
    """A robosuite environment reset by seed and stepped by actions from outside."""

    def __init__(self, env_args: Mapping, horizon: int = 0, placement_scale: float = 1.0):
        self.env_args = dict(env_args)
        self.env = build_env(env_args, placement_scale=placement_scale)
        self.cameras = tuple(camera_names(env_args))
        self.horizon = int(horizon) or task_spec(env_args['env_name']).horizon
        self.period_s = 1.0 / float(self.env.control_freq)
        robot = self.env.robots[0]
        self.arm_joints = tuple(robot.robot_joints)
        self.gripper_joints = tuple(robot.gripper_joints.get('right', ()))
        self.action_low, self.action_high = (np.asarray(a, np.float64)
                                             for a in self.env.action_spec)
        self.obs: Dict[str, np.ndarray] = {}
        self.seed: Optional[int] = None
        self.steps = 0
        self.success = False

    @property
    def action_dim(self) -> int:
        """Return the width of the action the environment takes."""
        return len(self.action_low)

    def reset(self, seed: int) -> Dict[str, np.ndarray]:
        """Start the episode of seed (the same initial state darp eval gives that seed)."""
        self.obs = dataset_obs(reset_with_seed(self.env, int(seed)), self.cameras)
        self.seed, self.steps, self.success = int(seed), 0, False
        return self.obs

    def check_action(self, action) -> np.ndarray:
        """Return action as float64 or raise ObservationError saying what is wrong with it."""
        values = np.asarray(action, dtype=np.float64).ravel()
        if values.size != self.action_dim:
            raise ObservationError(f'action has {values.size} values, the environment takes '
                                   f'{self.action_dim}')
        if not np.all(np.isfinite(values)):
            raise ObservationError(f'action holds NaN/Inf: {values.tolist()}')
        return values

    def step(self, action) -> Dict[str, np.ndarray]:
        """Apply one checked action (clipped to the controller's range) and observe."""
        if self.seed is None:
            raise RuntimeError('reset() the session before stepping it')
        values = np.clip(self.check_action(action), self.action_low, self.action_high)
        raw, _, _, _ = self.env.step(values)
        self.steps += 1
        self.obs = dataset_obs(raw, self.cameras)
        self.success = self.success or bool(self.env._check_success())
        return self.obs

    def status(self) -> EpisodeStatus:
        """Return the episode's seed, steps and outcome so far."""
        done = self.seed is not None and (self.success or self.steps >= self.horizon)
        return EpisodeStatus(self.seed, self.steps, self.horizon, self.success, done)
