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
The robosuite tasks darp_ros knows: the robosuite environment, its horizon, its objects.

Task names are the robosuite environment names, so a dataset's env_args.env_name
names its task without a separate field.
"""

from dataclasses import dataclass
from typing import Dict, Tuple

from darp_ros.core.errors import ConfigError

# The observation keys every low-dim policy sees by default (robomimic's choice):
# end-effector pose, gripper fingers, and the concatenated object state.
DEFAULT_OBS_KEYS = ('robot0_eef_pos', 'robot0_eef_quat', 'robot0_gripper_qpos', 'object')
CAMERAS = ('agentview', 'robot0_eye_in_hand', 'frontview', 'birdview', 'sideview')


@dataclass(frozen=True)
class TaskSpec:
    """One manipulation task."""

    name: str
    horizon: int            # evaluation budget in control steps (20 Hz)
    description: str


TASKS: Dict[str, TaskSpec] = {spec.name: spec for spec in (
    # Horizons are about 2.5x the scripted expert's mean episode length.
    TaskSpec('Lift', 120, 'lift a cube off the table'),
    TaskSpec('Stack', 250, 'stack the red cube on the green one'),
    TaskSpec('PickPlaceCan', 350, 'move a can from the left bin to its place in the right bin'),
    TaskSpec('NutAssemblySquare', 320, 'fit the square nut over the square peg'),
)}


def task_names() -> Tuple[str, ...]:
    """Return every supported task name."""
    return tuple(TASKS)


def task_spec(name: str) -> TaskSpec:
    """Return the task called name, or raise ConfigError listing the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None
