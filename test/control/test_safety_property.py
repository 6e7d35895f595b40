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
Every value a safety filter returns respects every limit, whatever the policy sends.

Random limits, start states, periods and command streams mixing ordinary values, NaN, Inf,
1e300 and hold() calls; positions, velocities, accelerations and steps are checked from the
returned values alone, as the robot would see them.
"""

import math

from darp_ros.control.safety import (AxisLimits, BoxFilter, CartesianLimits, PoseFilter,
                                     PositionFilter, TwistFilter, VelocityFilter)
from darp_ros.core.rotations import relative_rotation
from hypothesis import given, settings, strategies as st
import numpy as np

SETTINGS = settings(max_examples=200, deadline=None, database=None)
HOLD = None

periods = st.floats(0.001, 0.1)
extremes = st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0])


def values(low=-20.0, high=20.0):
    return st.one_of(st.floats(low, high), extremes)


def commands(dim, low=-20.0, high=20.0):
    """
    Return a strategy for 1..60 commands of dim values, with hold() calls mixed in.

    Commands come in runs of repeats, so an axis has time to reach full speed before it
    meets a limit or a change of mind.
    """
    command = st.lists(values(low, high), min_size=dim, max_size=dim)
    run = st.tuples(st.one_of(command, st.just(HOLD)), st.integers(1, 30))
    return st.lists(run, min_size=1, max_size=20).map(
        lambda runs: [item for item, count in runs for _ in range(count)][:60])


@st.composite
def axis_setups(draw, min_dim=1, max_dim=7):
    """Return (limits, start positions) with the start anywhere within the limits."""
    dim = draw(st.integers(min_dim, max_dim))
    lower = draw(st.lists(st.floats(-10.0, 10.0), min_size=dim, max_size=dim))
    width = draw(st.lists(st.floats(0.01, 20.0), min_size=dim, max_size=dim))
    upper = [low + span for low, span in zip(lower, width)]
    velocity = draw(st.lists(st.floats(0.01, 10.0), min_size=dim, max_size=dim))
    acceleration = draw(st.lists(st.floats(0.01, 100.0), min_size=dim, max_size=dim))
    max_step = draw(st.none() | st.lists(st.floats(1e-4, 1.0), min_size=dim, max_size=dim))
    fractions = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0]))
    start = [min(max(low + draw(fractions) * (high - low), low), high)
             for low, high in zip(lower, upper)]
    return AxisLimits(lower, upper, velocity, acceleration, max_step), np.array(start)


def feed(filt, stream, dt):
    """Return the values the filter answers to a stream of commands and hold() calls."""
    return np.array([filt.hold(dt).values if command is HOLD else filt.apply(command, dt).values
                     for command in stream])


def check_axis_motion(limits, start, positions, dt):
    """Assert that positions stepped from start at dt respect every limit of the axes."""
    lower, upper = np.array(limits.lower), np.array(limits.upper)
    scale = 1.0 + np.maximum(np.abs(lower), np.abs(upper))
    tol_q = 1e-12 * scale
    tol_v = 4.0 * tol_q / dt
    assert np.isfinite(positions).all()
    assert (positions >= lower - tol_q).all() and (positions <= upper + tol_q).all()
    steps = np.diff(np.vstack([start, positions]), axis=0)
    velocity = steps / dt
    assert (np.abs(velocity) <= np.array(limits.velocity) + tol_v).all()
    accel_step = np.diff(np.vstack([np.zeros_like(start), velocity]), axis=0)
    assert (np.abs(accel_step) <= np.array(limits.acceleration) * dt + 2.0 * tol_v).all()
    if limits.max_step is not None:
        assert (np.abs(steps) <= np.array(limits.max_step) + 2.0 * tol_q).all()


@SETTINGS
@given(st.data(), axis_setups(), periods)
def test_position_filter_output_respects_every_limit(data, setup, dt):
    limits, start = setup
    filt = PositionFilter(limits)
    filt.reset(start)
    stream = data.draw(commands(limits.dim))
    check_axis_motion(limits, start, feed(filt, stream, dt), dt)


@SETTINGS
@given(st.data(), axis_setups(), periods)
def test_velocity_filter_output_respects_every_limit(data, setup, dt):
    limits, start = setup
    filt = VelocityFilter(limits)
    filt.reset(start)
    stream = data.draw(commands(limits.dim, -50.0, 50.0))
    velocity = feed(filt, stream, dt)
    assert np.isfinite(velocity).all()
    positions, position = [], start.copy()
    for v in velocity:  # the same integration the filter does, so the same round-off
        position = position + v * dt
        positions.append(position)
    check_axis_motion(limits, start, np.array(positions), dt)
    np.testing.assert_array_equal(filt.position, position)


@st.composite
def boxes(draw):
    dim = draw(st.integers(1, 7))
    lower = draw(st.lists(st.floats(-10.0, 10.0), min_size=dim, max_size=dim))
    width = draw(st.lists(st.floats(0.0, 20.0), min_size=dim, max_size=dim))
    upper = [low + span for low, span in zip(lower, width)]
    max_step = draw(st.none() | st.floats(1e-4, 1.0)
                    | st.lists(st.floats(1e-4, 1.0), min_size=dim, max_size=dim))
    return lower, upper, max_step


@SETTINGS
@given(st.data(), boxes(), periods)
def test_box_filter_output_stays_in_the_box_and_steps(data, box, dt):
    lower, upper, max_step = box
    filt = BoxFilter(lower, upper, max_step)
    filt.reset(None)
    start = filt.last
    out = feed(filt, data.draw(commands(len(lower))), dt)
    assert np.isfinite(out).all()
    assert (out >= np.array(lower)).all() and (out <= np.array(upper)).all()
    if max_step is not None:
        steps = np.abs(np.diff(np.vstack([start, out]), axis=0))
        assert (steps <= np.broadcast_to(max_step, steps.shape[1:]) * (1 + 1e-12) + 1e-12).all()


@st.composite
def pose_setups(draw):
    limits, start = draw(axis_setups(3, 3))
    angular = draw(st.tuples(st.floats(0.01, 10.0), st.floats(0.01, 100.0)))
    quaternion = draw(st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4)
                      .filter(lambda q: np.linalg.norm(q) > 0.1))
    return limits, angular, np.concatenate([start, quaternion])


@SETTINGS
@given(st.data(), pose_setups(), periods)
def test_pose_filter_output_respects_workspace_and_rotation_limits(data, setup, dt):
    limits, (angular_velocity, angular_acceleration), start = setup
    filt = PoseFilter(limits, angular_velocity, angular_acceleration)
    filt.reset(start)
    previous_quaternion = filt.last[3:]
    stream = data.draw(commands(7, -2.0, 2.0))
    poses = feed(filt, stream, dt)
    check_axis_motion(limits, start[:3], poses[:, :3], dt)
    speeds = np.linalg.norm(np.diff(np.vstack([start[:3], poses[:, :3]]), axis=0), axis=1) / dt
    scale = 1.0 + np.max(np.abs(np.concatenate([limits.lower, limits.upper])))
    assert (speeds <= min(limits.velocity) + 8e-12 * scale / dt).all()   # the norm, not per axis
    previous_rotation = np.zeros(3)
    for quaternion in poses[:, 3:]:
        assert abs(np.linalg.norm(quaternion) - 1.0) < 1e-12
        rotation = relative_rotation(previous_quaternion, quaternion)
        assert np.linalg.norm(rotation) <= angular_velocity * dt + 1e-12
        change = np.linalg.norm(rotation - previous_rotation)
        assert change <= angular_acceleration * dt * dt + 1e-12
        previous_quaternion, previous_rotation = quaternion, rotation


@SETTINGS
@given(st.data(), pose_setups())
def test_limits_hold_in_real_time_when_commands_come_at_irregular_times(data, setup):
    # The node limits each command by the time actually elapsed since the previous one: a
    # command right after another may move only that little, whatever the nominal period.
    limits, (angular_velocity, angular_acceleration), start = setup
    filt = PoseFilter(limits, angular_velocity, angular_acceleration)
    filt.reset(start)
    stream = data.draw(commands(7, -2.0, 2.0))
    gaps = data.draw(st.lists(st.floats(1e-4, 0.1), min_size=len(stream),
                              max_size=len(stream)))
    poses = np.array([filt.hold(dt).values if command is HOLD else filt.apply(command, dt).values
                      for command, dt in zip(stream, gaps)])
    steps = np.diff(np.vstack([start[:3], poses[:, :3]]), axis=0)
    scale = 1.0 + np.max(np.abs(np.concatenate([limits.lower, limits.upper])))
    speed = min(limits.velocity)
    assert (np.linalg.norm(steps, axis=1) <= speed * np.array(gaps) + 8e-12 * scale).all()
    assert (poses[:, :3] >= np.array(limits.lower) - 1e-12 * scale).all()
    assert (poses[:, :3] <= np.array(limits.upper) + 1e-12 * scale).all()
    if limits.max_step is not None:
        assert (np.abs(steps) <= np.array(limits.max_step) + 2e-12 * scale).all()


def test_a_longer_gap_after_a_ramp_still_moves_no_more_than_max_step():
    # Hypothesis found this: an axis ramps up at 16 Hz, then commands come at 10 Hz. The
    # step bound (max_step / dt) falls below what the acceleration limit lets the axis shed
    # in one cycle; the step bound must still hold, so the axis slows harder instead.
    limits = AxisLimits(lower=(0.0, 0.0, 0.0), upper=(1.0, 1.0, 1.0), velocity=(1.0, 1.0, 1.0),
                        acceleration=(1.0, 1.0, 0.25), max_step=(1.0, 1.0, 0.0078125))
    filt = PoseFilter(limits, 1.0, 1.0)
    start = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    filt.reset(start)
    poses = [filt.apply(np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]), dt).values
             for dt in [0.0625] * 8 + [0.1] * 3]
    steps = np.abs(np.diff(np.vstack([start, poses])[:, 2]))
    assert steps.max() > 0.0078          # the ramp reached the step bound ...
    assert (steps <= 0.0078125 + 1e-15).all()   # ... and the longer gaps did not exceed it


def test_a_reversal_at_full_speed_keeps_every_axis_within_its_acceleration():
    # Hypothesis found this: x and y at the speed limit (the norm), then y's target flips
    # behind it. The last velocity sat on the speed sphere by round-off, and the fallback
    # that scaled the new velocity down cut x's by 0.101 in one cycle, 0.094 allowed.
    limits = AxisLimits(lower=(-6.0, 0.0, 0.0), upper=(0.0, 1.0, 1.0), velocity=(1.0, 1.0, 1.0),
                        acceleration=(1.0, 6.0, 1.0), max_step=None)
    filt = PoseFilter(limits, 1.0, 1.0)
    start = np.array([-6.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    filt.reset(start)
    dt = 0.09375
    stream = [[0.0] * 7] + [[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]] * 23 + [[0.0] * 6 + [1.0]]
    poses = np.array([filt.apply(np.array(command), dt).values for command in stream])
    check_axis_motion(limits, start[:3], poses[:, :3], dt)


@SETTINGS
@given(st.data(), st.tuples(*[st.floats(0.01, 10.0)] * 4), periods, st.integers(0, 3))
def test_a_twist_stays_in_its_workspace_measured_late(data, bounds, dt, lag):
    """The arm follows each twist exactly; the measurement it reports is `lag` cycles old."""
    limits = CartesianLimits(*bounds)
    lower = np.array(data.draw(st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3)))
    upper = lower + np.array(data.draw(st.lists(st.floats(0.01, 2.0), min_size=3, max_size=3)))
    start = lower + np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=3,
                                                max_size=3))) * (upper - lower)
    filt = TwistFilter(limits, (lower.tolist(), upper.tolist()))
    filt.reset(start)
    path, previous = [start], np.zeros(6)
    for command in data.draw(commands(6, -50.0, 50.0)):
        measured = path[max(len(path) - 1 - lag, 0)]
        twist = (filt.hold(dt) if command is HOLD else filt.apply(command, dt, measured)).values
        assert np.isfinite(twist).all()
        assert np.linalg.norm(twist[:3]) <= limits.linear_velocity * (1.0 + 1e-12)
        assert np.linalg.norm(twist[3:]) <= limits.angular_velocity * (1.0 + 1e-12)
        assert (np.linalg.norm(twist[:3] - previous[:3])
                <= limits.linear_acceleration * dt * (1 + 1e-9))
        assert (np.linalg.norm(twist[3:] - previous[3:])
                <= limits.angular_acceleration * dt * (1 + 1e-9))
        path.append(path[-1] + twist[:3] * dt)
        tolerance = 1e-9 * (1.0 + np.abs(path[-1]))
        assert (path[-1] >= lower - tolerance).all() and (path[-1] <= upper + tolerance).all()
        previous = twist
