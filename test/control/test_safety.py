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


"""Examples of the command safety layer: each limit, each error, each kind of filter."""

import math

from darp_ros.control.safety import (AxisLimits, BoxFilter, build_filter, CartesianLimits,
                                     COMMAND_KINDS, PoseFilter, PositionFilter, TwistFilter,
                                     VelocityFilter)
from darp_ros.control.safety.kinematics import braking_speed
from darp_ros.core.errors import ConfigError
from darp_ros.core.rotations import exp_map, log_map, relative_rotation
import numpy as np
import pytest

DT = 0.01
TOL = 1e-9


def joint_limits(dim=3, max_step=None):
    return AxisLimits(lower=[-1.0] * dim, upper=[1.0] * dim, velocity=[0.5] * dim,
                      acceleration=[2.0] * dim, max_step=max_step)


def run(filt, commands, dt=DT):
    return np.array([filt.apply(command, dt).values for command in commands])


def velocities(start, positions, dt=DT):
    return np.diff(np.vstack([start, positions]), axis=0) / dt


def test_a_command_jump_is_rate_limited_and_lands_on_the_target():
    filt = PositionFilter(joint_limits(1))
    filt.reset([-0.5])
    first = filt.apply([0.5], DT)
    assert first.values[0] == pytest.approx(-0.5 + 2.0 * DT * DT)
    assert any('acceleration limit on axis 0' == reason for reason in first.interventions)
    positions = np.vstack([first.values, run(filt, [[0.5]] * 300)])
    v = velocities([-0.5], positions)
    assert np.abs(v).max() <= 0.5 + TOL
    assert np.abs(v).max() == pytest.approx(0.5)  # it does reach full speed
    assert np.abs(np.diff(np.vstack([[0.0], v]), axis=0)).max() <= 2.0 * DT + TOL
    assert positions.max() <= 0.5 + TOL  # no overshoot past the target
    assert positions[-1, 0] == pytest.approx(0.5, abs=1e-12)
    assert filt.apply([0.5], DT).interventions == ()


def test_a_small_reachable_step_passes_untouched():
    filt = PositionFilter(joint_limits(2))
    filt.reset([0.0, 0.0])
    step = 2.0 * DT * DT  # one cycle of full acceleration, then a full stop is allowed
    result = filt.apply([step, -step], DT)
    np.testing.assert_allclose(result.values, [step, -step])
    assert result.interventions == () and not result.held


def test_max_step_caps_the_change_per_cycle():
    filt = PositionFilter(joint_limits(1, max_step=[0.001]))
    filt.reset([0.0])
    positions = run(filt, [[1.0]] * 200)
    assert np.abs(np.diff(positions[:, 0])).max() <= 0.001 + TOL
    assert 'step limit on axis 0' in filt.apply([1.0], DT).interventions


@pytest.mark.parametrize('start', [-0.9, 0.0])
def test_full_speed_towards_a_position_limit_brakes_and_never_crosses(start):
    limits = AxisLimits(lower=[-1.0], upper=[1.0], velocity=[3.0], acceleration=[5.0])
    filt = PositionFilter(limits)
    filt.reset([start])
    # A target that keeps moving beyond the limit at full speed: the filter must brake itself.
    targets = [[start + 3.0 * DT * (k + 1)] for k in range(400)]
    positions = run(filt, targets)
    v = velocities([start], positions)
    assert positions.max() <= 1.0
    assert np.abs(np.diff(np.vstack([[0.0], v]), axis=0)).max() <= 5.0 * DT + TOL
    assert positions[-1, 0] == pytest.approx(1.0, abs=1e-12)
    assert abs(v[-1, 0]) < 1e-9


def test_velocity_commands_towards_a_limit_brake_in_time():
    filt = VelocityFilter(AxisLimits(lower=[-1.0], upper=[0.5], velocity=[1.0],
                                     acceleration=[4.0]))
    filt.reset([0.0])
    v = run(filt, [[1.0]] * 300)
    q = np.cumsum(v[:, 0]) * DT
    assert q.max() <= 0.5 + TOL
    assert np.abs(np.diff(np.concatenate([[0.0], v[:, 0]]))).max() <= 4.0 * DT + TOL
    assert abs(v[-1, 0]) < 1e-9 and q[-1] == pytest.approx(0.5, abs=1e-9)


def test_velocity_filter_resyncs_to_measured_positions():
    filt = VelocityFilter(AxisLimits(lower=[-1.0], upper=[1.0], velocity=[1.0],
                                     acceleration=[100.0]))
    filt.reset([0.0])
    # Measured right at the upper limit: no further positive velocity is allowed.
    result = filt.apply([1.0], DT, measured=[1.0])
    assert result.values[0] <= TOL
    assert 'position limit on axis 0' in result.interventions
    assert filt.position[0] == pytest.approx(1.0)
    nan_measure = filt.apply([0.0], DT, measured=[math.nan])
    assert 'non-finite measurement ignored' in nan_measure.interventions
    with pytest.raises(ValueError, match='measured has 2 values, expected 1'):
        filt.apply([0.0], DT, measured=[0.0, 0.0])


def test_velocity_braking_is_not_fooled_by_a_lagging_measurement():
    filt = VelocityFilter(joint_limits(1))
    filt.reset([0.5])
    position, lag_s = 0.5, 0.15
    for _ in range(300):
        # The measurement arrives lag_s late: it trails the axis by what it moved meanwhile.
        measured = [position - filt.velocity[0] * lag_s]
        position += filt.apply([0.5], DT, measured=measured).values[0] * DT
        assert position <= 1.0 + TOL
    assert position == pytest.approx(1.0, abs=0.01)     # it does get there


def test_an_axis_stopped_at_its_limit_does_not_restart_from_a_late_measurement():
    # Positions reach the filter three cycles late; once the axis stops at the limit the
    # measurement still shows it short of it for three cycles, and the command keeps pushing.
    filt = VelocityFilter(joint_limits(1))
    filt.reset([0.5])
    path = [0.5]
    for _ in range(300):
        velocity = filt.apply([0.5], DT, measured=[path[max(len(path) - 4, 0)]]).values[0]
        path.append(path[-1] + velocity * DT)
        assert path[-1] <= 1.0 + TOL
    assert path[-1] == pytest.approx(1.0, abs=0.01)


def test_a_blocked_axis_can_back_away_from_where_its_commands_led():
    # The arm does not move (contact): the integral runs ahead to the limit, the measurement
    # stays at 0.5. Commanding the other way follows the measurement again.
    filt = VelocityFilter(joint_limits(1))
    filt.reset([0.5])
    for _ in range(200):
        filt.apply([0.5], DT, measured=[0.5])
    assert filt.position[0] == pytest.approx(1.0, abs=0.01)
    for _ in range(2):      # the first step turns it round, the second starts from 0.5
        filt.apply([-0.5], DT, measured=[0.5])
    assert filt.velocity[0] == pytest.approx(-4.0 * DT)
    assert filt.position[0] == pytest.approx(0.5 - 4.0 * DT * DT)


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_non_finite_commands_give_a_smooth_hold(bad):
    filt = VelocityFilter(joint_limits(2))
    filt.reset([0.0, 0.0])
    for _ in range(50):
        moving = filt.apply([0.5, -0.5], DT).values
    result = filt.apply([0.1, bad], DT)
    assert result.held
    assert result.interventions == ('non-finite command',)
    np.testing.assert_allclose(result.values, moving - np.array([2.0, -2.0]) * DT)


def test_hold_sequence_reaches_rest_within_the_acceleration_limit():
    filt = PositionFilter(joint_limits(3))
    filt.reset([0.0, 0.0, 0.0])
    positions = list(run(filt, [[1.0, -1.0, 0.3]] * 40))
    start_velocity = filt.velocity
    assert np.abs(start_velocity).max() > 0.1
    for _ in range(100):
        result = filt.hold(DT)
        assert result.held and result.interventions == ()
        positions.append(result.values)
    v = velocities([0.0, 0.0, 0.0], np.array(positions))
    assert np.abs(np.diff(np.vstack([np.zeros(3), v]), axis=0)).max() <= 2.0 * DT + TOL
    rest = np.flatnonzero(np.abs(v).max(axis=1) < 1e-9)
    assert rest.size and rest[0] <= 40 + math.ceil(0.5 / (2.0 * DT)) + 1
    assert np.abs(filt.velocity).max() < 1e-9


def test_after_a_stall_position_targets_start_again_from_rest():
    moving = PositionFilter(joint_limits(1))
    moving.reset([0.0])
    run(moving, [[1.0]] * 40)
    assert moving.velocity[0] == pytest.approx(0.5)      # at full speed when the stream paused
    stalled = PositionFilter(joint_limits(1))
    stalled.reset([0.0])
    run(stalled, [[1.0]] * 40)
    before = stalled.position[0]
    stalled.stalled()
    # The controller stopped at the last target: the next step accelerates from rest.
    step = stalled.apply([1.0], DT).values[0] - before
    assert step == pytest.approx(2.0 * DT * DT)
    pose = PoseFilter(joint_limits(3), angular_velocity=1.0, angular_acceleration=2.0)
    pose.reset([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    for _ in range(40):
        pose.apply([0.9, 0.0, 0.0, 0.0, 0.0, np.sin(0.5), np.cos(0.5)], DT)
    pose.stalled()
    assert np.abs(pose.translation.velocity).max() == 0.0 and np.abs(pose.angular_rate).max() == 0


def test_a_velocity_stream_keeps_its_velocity_through_a_stall():
    filt = VelocityFilter(joint_limits(1))
    filt.reset([0.0])
    run(filt, [[0.4]] * 40)
    filt.stalled()      # the controller kept applying 0.4: dropping it would be a jump
    assert filt.apply([0.4], DT).values[0] == pytest.approx(0.4)


def test_reset_refuses_states_it_cannot_start_from():
    filt = PositionFilter(joint_limits(3))
    with pytest.raises(ValueError, match='axis 2 position 1.5 is outside'):
        filt.reset([0.0, 0.0, 1.5])
    with pytest.raises(ValueError, match='axis 1 position is nan'):
        filt.reset([0.0, math.nan, 0.0])
    with pytest.raises(ValueError, match='current has 2 values, expected 3'):
        filt.reset([0.0, 0.0])


def test_calls_before_reset_and_bad_inputs_raise():
    filt = PositionFilter(joint_limits(3))
    with pytest.raises(RuntimeError, match=r'reset\(\) first'):
        filt.apply([0.0, 0.0, 0.0], DT)
    with pytest.raises(RuntimeError, match=r'reset\(\) first'):
        filt.hold(DT)
    assert filt.last is None
    filt.reset([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(filt.last, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match='command has 4 values, expected 3'):
        filt.apply([0.0] * 4, DT)
    for dt in (0.0, -0.01, math.nan, math.inf, 'fast'):
        with pytest.raises(ValueError, match='dt must be'):
            filt.apply([0.0] * 3, dt)


def test_huge_finite_commands_are_clamped():
    filt = PositionFilter(joint_limits(2))
    filt.reset([0.0, 0.0])
    result = filt.apply([1e300, -1.7e308], DT)
    assert np.isfinite(result.values).all()
    assert 'position limit on axis 0' in result.interventions
    assert np.abs(result.values).max() <= 2.0 * DT * DT + TOL


def test_braking_speed_is_the_exact_discrete_stop():
    accel, dt = 3.0, 0.02
    for distance in np.linspace(0.0, 2.0, 101):
        speed = float(braking_speed(np.array(distance), accel, dt))
        travelled, v = 0.0, speed
        while v > 0.0:
            travelled += v * dt
            v -= accel * dt
        assert travelled <= distance + 1e-12
        faster, v = 0.0, speed * (1 + 1e-6) + 1e-9
        while v > 0.0:
            faster += v * dt
            v -= accel * dt
        assert faster > distance


def test_twist_norm_and_change_are_limited():
    limits = CartesianLimits(linear_velocity=0.2, linear_acceleration=1.0,
                             angular_velocity=0.5, angular_acceleration=2.0)
    # A box far larger than the run's travel: only the rates limit here.
    filt = TwistFilter(limits, ([-100.0] * 3, [100.0] * 3))
    filt.reset([0.0, 0.0, 0.0])
    first = filt.apply([1.0, 1.0, 0.0, 0.0, 0.0, 3.0], DT)
    # The linear part changes by linear_acceleration/sqrt(3) per axis, inside the norm bound.
    np.testing.assert_allclose(first.values[:3], [DT / math.sqrt(3)] * 2 + [0.0])
    assert np.linalg.norm(first.values[3:]) == pytest.approx(2.0 * DT)
    assert set(first.interventions) == {'acceleration limit on x', 'acceleration limit on y',
                                        'speed limit (norm)', 'angular velocity limit',
                                        'angular acceleration limit'}
    twists = run(filt, [[1e300, 1e300, 0.0, 0.0, 0.0, 3.0]] * 100)
    np.testing.assert_allclose(twists[-1], [0.2 / math.sqrt(2)] * 2 + [0, 0, 0, 0.5], atol=1e-12)
    previous = twists[-1]
    for _ in range(30):
        held = filt.hold(DT).values
        assert np.linalg.norm(held[:3] - previous[:3]) <= 1.0 * DT + TOL
        assert np.linalg.norm(held[3:] - previous[3:]) <= 2.0 * DT + TOL
        previous = held
    np.testing.assert_array_equal(previous, np.zeros(6))


def pose_filter(angular_velocity=1.0, angular_acceleration=10.0):
    workspace = AxisLimits(lower=[0.2, -0.4, 0.0], upper=[0.8, 0.4, 0.6], velocity=[0.3] * 3,
                           acceleration=[2.0] * 3)
    return PoseFilter(workspace, angular_velocity, angular_acceleration)


def test_pose_orientation_turns_at_most_the_angular_velocity_per_cycle():
    filt = pose_filter()
    filt.reset([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0])
    flipped = [0.5, 0.0, 0.3, 1.0, 0.0, 0.0, 0.0]  # 180 degrees about x
    previous = filt.last[3:]
    angles = []
    for _ in range(400):
        result = filt.apply(flipped, DT)
        quaternion = result.values[3:]
        assert np.linalg.norm(quaternion) == pytest.approx(1.0)
        angles.append(np.linalg.norm(relative_rotation(previous, quaternion)))
        previous = quaternion
    assert max(angles) <= 1.0 * DT + TOL
    assert max(angles) == pytest.approx(1.0 * DT)
    assert np.abs(np.diff(angles)).max() <= 10.0 * DT * DT + TOL
    assert abs(abs(previous[0]) - 1.0) < 1e-9  # arrived
    assert angles[-1] < 1e-9


def test_pose_position_stays_in_the_workspace_and_bad_quaternions_hold():
    filt = pose_filter()
    filt.reset([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 2.0])  # normalized on reset
    np.testing.assert_allclose(filt.last, [0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0])
    poses = run(filt, [[5.0, -5.0, 0.3, 0.0, 0.0, 0.0, 1.0]] * 300)
    np.testing.assert_allclose(poses[-1, :3], [0.8, -0.4, 0.3], atol=1e-12)
    result = filt.apply([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0], DT)
    assert result.held and 'zero-norm quaternion' in result.interventions
    assert 'non-finite command' in result.interventions
    with pytest.raises(ValueError, match='not a valid quaternion'):
        filt.reset([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match='x position 0.1 is outside'):
        filt.reset([0.1, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0])


def test_rotation_maps_round_trip():
    rng = np.random.default_rng(0)
    for _ in range(50):
        rotation = rng.normal(size=3)
        rotation *= rng.uniform(0.0, math.pi - 1e-6) / np.linalg.norm(rotation)
        np.testing.assert_allclose(log_map(exp_map(rotation)), rotation, atol=1e-12)
    np.testing.assert_allclose(log_map(exp_map(np.array([1e-12, 0, 0]))), [1e-12, 0, 0])


def test_box_filter_clips_limits_steps_and_holds():
    filt = BoxFilter([-1.0, -1.0], [1.0, 0.5], max_step=0.1, hold_value=[0.0, 0.5])
    filt.reset()
    np.testing.assert_array_equal(filt.last, [0.0, 0.5])
    result = filt.apply([5.0, -0.02], DT)
    np.testing.assert_allclose(result.values, [0.1, 0.4])
    assert result.interventions == ('box limit on axis 0', 'step limit on axis 0',
                                    'step limit on axis 1')
    values = run(filt, [[5.0, 5.0]] * 20)
    np.testing.assert_allclose(values[-1], [1.0, 0.5])
    held = [filt.hold(DT).values for _ in range(20)]
    assert np.abs(np.diff(np.vstack([values[-1], held]), axis=0)).max() <= 0.1 + TOL
    np.testing.assert_allclose(held[-1], [0.0, 0.5])
    assert filt.apply([math.nan, 0.0], DT).interventions == ('non-finite command',)
    with pytest.raises(ValueError, match='axis 1 value 0.7 is outside'):
        filt.reset([0.0, 0.7])
    unlimited = BoxFilter([-1.0], [1.0])
    unlimited.reset([0.3])
    assert unlimited.apply([-0.9], DT).values[0] == -0.9
    assert unlimited.hold(DT).values[0] == 0.0


JOINT = {'lower': [-1.0, -2.0], 'upper': [1.0, 2.0], 'velocity': [1.0, 1.0],
         'acceleration': [5.0, 5.0], 'max_step': [0.1, 0.1]}
TWIST = {'linear_velocity': 0.2, 'linear_acceleration': 1.0, 'angular_velocity': 0.5,
         'angular_acceleration': 2.0, 'workspace_lower': [0.2, -0.4, 0.0],
         'workspace_upper': [0.8, 0.4, 0.6]}
POSE = {'workspace_lower': [0.2, -0.4, 0.0], 'workspace_upper': [0.8, 0.4, 0.6],
        'linear_velocity': 0.3, 'linear_acceleration': 2.0, 'max_step': 0.01,
        'angular_velocity': 1.0, 'angular_acceleration': 5.0}
ARRAY = {'lower': -1.0, 'upper': [1.0, 1.0, 0.5], 'max_step': 0.2, 'hold_value': 0.0}


@pytest.mark.parametrize('kind, limits, dim, cls', [
    ('joint_position', JOINT, 2, PositionFilter), ('joint_trajectory', JOINT, 2, PositionFilter),
    ('joint_velocity', JOINT, 2, VelocityFilter), ('twist', TWIST, 6, TwistFilter),
    ('pose', POSE, 7, PoseFilter), ('array', ARRAY, 3, BoxFilter)])
def test_build_filter_builds_each_kind(kind, limits, dim, cls):
    filt = build_filter(kind, limits, dim)
    assert isinstance(filt, cls) and filt.dim == dim
    assert kind in COMMAND_KINDS


@pytest.mark.parametrize('kind, limits, dim, message', [
    ('joint_effort', JOINT, 2, "unknown command kind 'joint_effort'"),
    ('joint_position', {k: v for k, v in JOINT.items() if k != 'velocity'}, 2,
     "'joint_position'.*missing key 'velocity'"),
    ('joint_position', JOINT, 3, "'joint_position'.*lower has 2 values, expected 3"),
    ('joint_velocity', {**JOINT, 'velocity': 1.0}, 2, 'velocity must be a list of 2 numbers'),
    ('joint_position', {**JOINT, 'jerk': [1, 1]}, 2, r"unknown keys \['jerk'\]"),
    ('joint_position', {**JOINT, 'acceleration': [5.0, 0.0]}, 2,
     r'acceleration\[1\] = 0.0 must be > 0'),
    ('twist', TWIST, 7, "'twist'.*6 values, got dim = 7"),
    ('twist', {**TWIST, 'angular_velocity': math.nan}, 6, 'angular_velocity must be finite'),
    ('pose', {**POSE, 'workspace_upper': [1, 1]}, 7, 'workspace_upper has 2 values'),
    ('pose', {k: v for k, v in POSE.items() if k != 'angular_acceleration'}, 7,
     "missing key 'angular_acceleration'"),
    ('array', {'lower': [-1, -1], 'upper': 1}, 3, 'lower has 2 values, expected 3'),
    ('array', {'lower': 1, 'upper': 0}, 1, 'lower = 1.0 is above upper = 0.0'),
    ('array', {'lower': -1, 'upper': 1, 'hold_value': 2}, 1, r'hold_value\[0\] = 2.0'),
    ('joint_position', [1, 2], 2, 'must be a mapping'),
])
def test_build_filter_names_the_kind_and_the_key(kind, limits, dim, message):
    with pytest.raises(ConfigError, match=message):
        build_filter(kind, limits, dim)


def test_axis_limits_validate_and_name_field_axis_and_value():
    with pytest.raises(ConfigError, match=r'AxisLimits.velocity\[1\] = -1.0 must be > 0'):
        AxisLimits([0, 0], [1, 1], [1, -1], [1, 1])
    with pytest.raises(ConfigError, match='axis 0: lower = 1.0 must be below upper = 1.0'):
        AxisLimits([1], [1], [1], [1])
    with pytest.raises(ConfigError, match='AxisLimits.acceleration has 1 values, lower has 2'):
        AxisLimits([0, 0], [1, 1], [1, 1], [1])
    with pytest.raises(ConfigError, match=r'AxisLimits.max_step\[0\] must be finite'):
        AxisLimits([0], [1], [1], [1], max_step=[math.inf])
    with pytest.raises(ConfigError, match=r'AxisLimits.upper\[0\] must be a number'):
        AxisLimits([0], [True], [1], [1])
    with pytest.raises(ConfigError, match=r"unknown keys \['vel'\]"):
        AxisLimits.from_dict({'lower': [0], 'upper': [1], 'vel': [1], 'acceleration': [1],
                              'velocity': [1]})
    limits = AxisLimits.from_dict({'lower': [0], 'upper': [1], 'velocity': [1],
                                   'acceleration': [2]})
    assert limits.dim == 1 and limits.acceleration == (2.0,) and limits.max_step is None
    with pytest.raises(ConfigError, match='CartesianLimits.linear_velocity = 0.0 must be > 0'):
        CartesianLimits(0.0, 1.0, 1.0, 1.0)


def test_a_measured_pose_outside_the_workspace_is_named():
    filt = pose_filter()
    assert filt.check_measured([0.5, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0]) is None
    problem = filt.check_measured([5.0, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0])
    assert 'measured state' in problem and 'x position 5.0 is outside' in problem


def test_a_diagonal_move_is_limited_in_speed_not_per_axis():
    filt = pose_filter()
    filt.reset([0.3, -0.3, 0.1, 0.0, 0.0, 0.0, 1.0])
    positions = run(filt, [[0.7, 0.3, 0.5, 0.0, 0.0, 0.0, 1.0]] * 60)[:, :3]
    speeds = np.linalg.norm(np.diff(positions, axis=0), axis=1) / DT
    assert speeds.max() <= 0.3 + TOL
    assert speeds.max() == pytest.approx(0.3)   # per axis would reach 0.3 * sqrt(3)
