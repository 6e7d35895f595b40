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


"""Gripper hysteresis and the novelty scale."""

from darp_ros.core.gripper import GripperHysteresis
from darp_ros.core.memory import DemoMemory
from darp_ros.core.novelty import typical_neighbor_distance
import numpy as np
import pytest


def test_gripper_keeps_its_state_inside_the_gap():
    gripper = GripperHysteresis(close_above=0.5, open_below=-0.5)
    assert gripper.update(-0.1) is False  # the first value decides from the gap middle
    assert [gripper.update(v) for v in (0.4, 0.6, 0.0, -0.4, float('nan'), -0.6, 0.4)] == \
        [False, True, True, True, True, False, False]
    gripper.reset()
    assert gripper.closed is None
    with pytest.raises(ValueError, match='must be below'):
        GripperHysteresis(0.0, 0.0)


def test_novelty_scale_is_the_typical_distance_to_another_episode():
    # Two parallel lines of states 1.0 apart, densely sampled: the nearest state of the
    # other episode is 1.0 away while the same episode's neighbours are 0.01 away.
    t = np.linspace(0.0, 1.0, 101)
    states = np.concatenate([np.stack([t, np.zeros_like(t)], 1),
                             np.stack([t, np.ones_like(t)], 1)]).astype(np.float32)
    memory = DemoMemory(states, np.zeros((202, 1), np.float32), np.repeat([0, 1], 101),
                        np.tile(np.arange(101), 2), device='cpu')
    assert typical_neighbor_distance(memory) == pytest.approx(1.0, abs=1e-5)
