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


"""Twist commands brake in time to stay inside the workspace box, judged from measurement."""

from darp_ros.control.command_pipeline import CommandPipeline
from darp_ros.control.node_config import node_config
from darp_ros.control.safety import build_filter, CartesianLimits, TwistFilter
from darp_ros.core.errors import ConfigError
import numpy as np
import pytest

DT = 0.05
LIMITS = CartesianLimits(linear_velocity=0.25, linear_acceleration=1.0, angular_velocity=0.5,
                         angular_acceleration=2.0)
LOWER, UPPER = [0.25, -0.45, 0.02], [0.75, 0.45, 0.70]


def drive(filt, command, start, cycles, lag=0):
    """Follow each twist exactly from start, reporting positions `lag` cycles old."""
    path, twists = [np.array(start, dtype=float)], []
    for _ in range(cycles):
        result = filt.apply(command, DT, measured=path[max(len(path) - 1 - lag, 0)])
        twists.append(result.values)
        path.append(path[-1] + result.values[:3] * DT)
    return np.array(path), np.array(twists)


@pytest.mark.parametrize('lag', [0, 3])
def test_a_steady_twist_stops_at_the_workspace_wall(lag):
    filt = TwistFilter(LIMITS, (LOWER, UPPER))
    filt.reset([0.5, 0.0, 0.3])
    path, twists = drive(filt, [1.0, 0.0, -1.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.3], 200, lag)
    assert path[:, 0].max() <= UPPER[0] + 1e-12 and path[:, 2].min() >= LOWER[2] - 1e-12
    np.testing.assert_allclose(twists[-1], np.zeros(6), atol=1e-12)
    # It got close: the box is what stopped it, not a timid limit.
    assert path[-1, 0] > UPPER[0] - 0.01 and path[-1, 2] < LOWER[2] + 0.01
    assert max(np.linalg.norm(t[:3]) for t in twists) == pytest.approx(0.25)
    steps = np.diff(np.vstack([np.zeros(6), twists]), axis=0)[:, :3]
    assert np.linalg.norm(steps, axis=1).max() <= 1.0 * DT * (1 + 1e-9)


def test_at_the_wall_a_twist_may_still_move_away_from_it():
    filt = TwistFilter(LIMITS, (LOWER, UPPER))
    filt.reset([UPPER[0], 0.0, 0.3])
    _, twists = drive(filt, [-0.1, 0.0, 0.0, 0.0, 0.0, 0.0], [UPPER[0], 0.0, 0.3], 20)
    assert twists[-1][0] == pytest.approx(-0.1)


def test_the_measured_state_must_be_inside_the_box():
    filt = TwistFilter(LIMITS, (LOWER, UPPER))
    filt.reset([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0])    # a pose: its position is used
    assert filt.check_measured([0.5, 0.0, 0.3]) is None
    assert 'z position 0.01 is outside' in filt.check_measured([0.5, 0.0, 0.01])
    assert 'need the measured end-effector position' in filt.check_measured(None)
    assert 'has 6 values, expected 3' in filt.check_measured([0.5] * 6)
    with pytest.raises(ValueError, match='outside'):
        filt.reset([0.9, 0.0, 0.3])


def test_a_twist_without_a_workspace_is_refused():
    rates = {'linear_velocity': 0.25, 'linear_acceleration': 1.0, 'angular_velocity': 0.5,
             'angular_acceleration': 2.0}
    with pytest.raises(ConfigError, match=r'twist commands need a workspace box, missing '
                                          r"\['workspace_upper'\]"):
        build_filter('twist', {**rates, 'workspace_lower': LOWER}, 6)
    filt = build_filter('twist', {**rates, 'workspace_lower': LOWER, 'workspace_upper': UPPER},
                        6)
    assert filt.translation is not None
    with pytest.raises(ConfigError, match='workspace_lower has 2 values'):
        build_filter('twist', {**rates, 'workspace_lower': [0, 0], 'workspace_upper': UPPER}, 6)


def twist_pipeline(**command):
    params = {'observation_keys': ['pose'], 'obs.pose.topic': 'pose',
              'obs.pose.type': 'pose_stamped', 'obs.pose.field': 'pose',
              'command.type': 'twist', 'command.topic': 'twist',
              'limits.workspace_lower': LOWER, 'limits.workspace_upper': UPPER,
              'limits.linear_velocity': 0.25, 'limits.linear_acceleration': 1.0,
              'limits.angular_velocity': 0.5, 'limits.angular_acceleration': 2.0,
              **{f'command.{key}': value for key, value in command.items()}}
    return CommandPipeline(node_config(params), 6)


def test_the_node_holds_a_twist_when_the_arm_is_outside_the_box():
    with pytest.raises(ConfigError, match='twist needs command.state_keys'):
        twist_pipeline()
    pipeline = twist_pipeline(state_keys=['pose'])
    inside = {'pose': np.array([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0])}
    moving = None
    for _ in range(10):
        _, moving = pipeline.apply(np.array([1.0, 0, 0, 0, 0, 0]), inside, DT)
    assert moving.values[0] > 0.0 and not moving.held
    outside = {'pose': np.array([0.8, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0])}
    _, held = pipeline.apply(np.array([1.0, 0, 0, 0, 0, 0]), outside, DT)
    assert held.held and 'x position 0.8 is outside' in held.interventions[0]
    assert 0.0 <= held.values[0] < moving.values[0]
