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

"""Which expert drives which task."""

from typing import Callable, Dict

from darp_ros.core.errors import ConfigError
from darp_ros.sim.experts.lift import lift_expert
from darp_ros.sim.experts.nut_assembly import nut_expert
from darp_ros.sim.experts.pick_place import pick_place_expert
from darp_ros.sim.experts.stack import stack_expert

EXPERTS: Dict[str, Callable] = {
    'Lift': lift_expert,
    'Stack': stack_expert,
    'PickPlaceCan': pick_place_expert,
    'NutAssemblySquare': nut_expert,
}


def expert_for(task: str) -> Callable:
    """
    Return the expert factory (env, rng, noise, diversity=1.0) -> PhaseExpert for task.

    diversity scales the ranges its demonstrator styles are drawn from (Style.sample).
    """
    try:
        return EXPERTS[task]
    except KeyError:
        known = ', '.join(EXPERTS)
        raise ConfigError(f'no scripted expert for task {task!r}; experts exist for '
                          f'{known}') from None
