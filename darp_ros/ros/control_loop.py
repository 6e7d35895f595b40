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
The policy node's control loop: inputs in, one inference at a time, checked commands out.

A mixin of PolicyNode, kept apart from the lifecycle and set-up code: it reads the attributes
configure creates (config, assembler, runtime, commands, inference, stats, period_s,
_outputs, _gripper, _novelty_guard) and the node's clock and logger.
"""

import time
from typing import Optional

from darp_ros.control.node_config import KEEPS_MOVING
from darp_ros.control.observation_assembler import InputFault
from darp_ros.core.errors import DarpError
from darp_ros.ros.command_messages import WRITERS
import numpy as np
from std_msgs.msg import Float64, Float64MultiArray, MultiArrayDimension

# Commands closer together than this in real time are limited as if this far apart; the
# safety layer needs a positive period.
MIN_COMMAND_DT_S = 1e-4
# A command later than this many periods after the previous one finds a position controller
# stopped at the last target (its interpolation ran out): the next one starts from rest.
STALL_PERIODS = 1.5
# Deactivation brakes to rest, one hold a period; no configured limits take longer than this.
MAX_BRAKE_S = 10.0


def same_command(a: Optional[np.ndarray], b: Optional[np.ndarray]) -> bool:
    """Return whether two commands are equal but for round-off (a hold that is at rest)."""
    return a is not None and b is not None and np.allclose(a, b, rtol=0.0, atol=1e-12)


class ControlLoop:
    """Tick, assemble, infer, limit, publish; hold and say why when anything is wrong."""

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_input(self, topic: str, msg) -> None:
        self.assembler.update(topic, msg, self._now())
        if self.config.sync_inputs and self._active:
            stamp = self.assembler.common_stamp()
            # Lockstep: one step per complete set of inputs, whatever order they came in. A
            # set that could not be acted on (e.g. it beat its /clock message) is tried again
            # when the simulator republishes it.
            if stamp is not None and stamp > self._synced_stamp and self._control_step():
                self._synced_stamp = stamp

    def _tick(self) -> None:
        if not self._active:
            return
        if not self.config.sync_inputs:
            self.stats.tick(time.perf_counter())
            self._control_step()
            return
        if self._synced_stamp == -float('inf'):
            return  # lockstep has not started: nothing was commanded, nothing to hold
        try:  # lockstep steps on inputs; the timer only watches them go stale
            self.assembler.assemble(self._now())
        except InputFault as exc:
            self._fault(str(exc))

    def _control_step(self) -> bool:
        """Assemble the newest inputs and hand them to the inference thread, if possible."""
        start = time.perf_counter()
        now = self._now()
        try:
            obs = self.assembler.assemble(now)
        except InputFault as exc:
            self._fault(str(exc))
            return False
        # When the oldest input was stamped or arrived: the command must still be fresh by it.
        inputs_from = now - max(max(age.arrival_age_s, age.stamp_age_s or 0.0)
                                for age in self.assembler.ages(now).values())
        if self.config.sync_inputs:
            # The previous step's command is out (that is why these inputs exist); its
            # thread is only finishing the step's bookkeeping.
            self.inference.wait()
        if not self.inference.submit(self._act_logged, obs, start, inputs_from):
            self.stats.overruns += 1
            self._fault('overrun: the previous inference is still running')
            return False
        return True

    def _act_logged(self, obs, start: float, inputs_from: float) -> None:
        """Run _act; an unexpected failure (a publisher, the gripper) is logged and held."""
        try:
            self._act(obs, start, inputs_from)
        except Exception as exc:  # noqa: B902 - the inference future would keep it unseen
            self.get_logger().error(f'control step failed: {exc!r}', throttle_duration_sec=1.0)
            self._fault(f'control step failed: {exc}')

    def _act(self, obs, start: float, inputs_from: float) -> None:
        """Infer, check the deadline and the inputs' age, filter and publish (own thread)."""
        try:
            result = self.runtime.step(obs)
        except Exception as exc:  # noqa: B902 - any failure must hold, never stop the loop
            return self._fault(f'inference failed: {exc}')
        self.stats.latencies.append(result.latency_s)
        elapsed = time.perf_counter() - start
        deadline = self.config.max_step_time_s or self.period_s
        # In lockstep the simulator waits for the command: lateness is not an overrun there,
        # and holding for it would make results depend on the machine's speed.
        if elapsed > deadline and not self.config.sync_inputs:
            self.stats.overruns += 1
            return self._fault(f'overrun: the step took {elapsed * 1e3:.1f} ms, more than '
                               f'{deadline * 1e3:.1f} ms')
        age = self._now() - inputs_from
        if age > self.config.max_input_age_s and not self.config.sync_inputs:
            # A deadline above a period (max_step_time_s) must not let stale inputs through.
            return self._fault(f'stale at publish: the oldest input is {age:.3f} s old after '
                               f'inference (max_input_age_s {self.config.max_input_age_s})')
        novelty = result.novelty / self.novelty_scale
        if self._novelty_guard.update(novelty):
            self._outputs['novelty'].publish(Float64(data=novelty))
            return self._fault(self._novelty_guard.reason(novelty))
        with self._output_lock:
            if not self._active:
                return None  # deactivated while inferring: its hold is already out
            if self._faulted and (self._stream_broken or not self._moving()):
                # The arm may have moved while the node held, or no hold reached it: restart
                # from where it is. Holds still braking are continued instead: restarting
                # from rest then would be the velocity jump the holds exist to avoid.
                self.commands.resync()
            elif self._stalled():
                self.commands.stalled()
            try:
                _, safe = self.commands.apply(result.action, obs, self._command_dt())
            except (DarpError, ValueError) as exc:
                return self._fault(f'command rejected: {exc}')
            if safe.held:
                return self._fault(f'safety layer held: {", ".join(safe.interventions)}',
                                   hold=safe.values)
            self._publish_command(safe.values)
            # Under the lock: a fault the timer thread finds from here on is not lost.
            recovered, self._faulted, self._stream_broken = self._faulted, False, False
        if safe.interventions:
            self.stats.interventions += 1
            for reason in safe.interventions:
                by_limit = self.stats.interventions_by_limit
                by_limit[reason] = by_limit.get(reason, 0) + 1
        self._publish_step(result)
        self.stats.commands += 1
        if recovered:
            self.get_logger().info(f'inputs good again: commanding (after: '
                                   f'{self.stats.last_fault})')

    def _command_dt(self) -> float:
        """
        Return the seconds the next command may move for.

        Limits hold in real time: a command sent soon after the previous one (a hold right
        after a late inference) may move only as far as the elapsed time allows, never more
        than one period. In lockstep the simulator advances one period per command.
        """
        if self.config.sync_inputs or self._published_at is None:
            return self.period_s
        elapsed = time.monotonic() - self._published_at
        return min(max(elapsed, MIN_COMMAND_DT_S), self.period_s)

    def _stalled(self) -> bool:
        """Return whether the command stream paused for longer than a period (not lockstep)."""
        if self.config.sync_inputs or self._published_at is None:
            return False
        return time.monotonic() - self._published_at > STALL_PERIODS * self.period_s

    def _fault(self, reason: str, hold: Optional[np.ndarray] = None) -> None:
        """Publish a hold (`hold`, when the safety layer made it already); log why, throttled."""
        self.stats.holds += 1
        self.stats.last_fault = reason
        now = time.monotonic()
        with self._output_lock:
            if not self._faulted:
                self._faulted, self._faulted_since = True, now
            held = self.config.fault_behavior == 'hold' and self.commands.ready and self._active
            if held:
                if hold is None:
                    hold = self.commands.hold(self._command_dt()).values
                timeout = self.config.hold_timeout_s
                if (same_command(hold, self._last_command) and timeout
                        and now - self._faulted_since > timeout):
                    # After a reflex the controller is down: stop streaming into it.
                    held = False
                    reason += f' (faulted for over {timeout:g} s and at rest: stopped streaming)'
                else:
                    self._publish_command(hold)
            self._holding = held
            if not held:
                self._stream_broken = True      # the controller got nothing this cycle
        kind = reason.split(':', 1)[0]
        if now - self._logged_at.get(kind, -1e9) < self.config.log_throttle_s:
            self._unlogged_faults[kind] = self._unlogged_faults.get(kind, 0) + 1
            return
        action = 'holding' if held else 'not commanding'
        unlogged = self._unlogged_faults.pop(kind, 0)
        more = f' ({unlogged} more faulty cycles since the last message)' if unlogged else ''
        self.get_logger().warning(f'{action}: {reason}{more}')
        self._logged_at[kind] = now

    def _brake_to_rest(self) -> int:
        """
        Publish holds a period apart until the command rests; return how many went out.

        One hold is not a stop: a velocity controller keeps applying the last velocity, and a
        position controller halts dead at the last target. Each hold slows by what the
        limits allow for the time since the previous command.
        """
        count = 0
        while count * self.period_s < MAX_BRAKE_S:
            started = time.monotonic()
            self._publish_command(self.commands.hold(self._command_dt()).values)
            count += 1
            if not self._moving():
                return count
            time.sleep(max(0.0, self.period_s - (time.monotonic() - started)))
        self.get_logger().error(f'not at rest after braking for {MAX_BRAKE_S:g} s: the limits '
                                'allow no faster stop')
        return count

    def _moving(self) -> bool:
        """
        Return whether the last command keeps the arm moving.

        A velocity controller keeps applying the last velocity, so only zero is rest there;
        a position or pose target is at rest once two commands in a row are equal.
        """
        if self._last_command is None:
            return False
        if self.config.command.kind in KEEPS_MOVING:
            return bool(np.any(self._last_command != 0.0))
        return not self._at_rest

    def _publish_command(self, values: np.ndarray) -> None:
        writer = WRITERS[self.config.command.kind]
        # Two equal commands in a row: the stream is at rest.
        self._at_rest = same_command(values, self._last_command)
        self._last_command = np.array(values, dtype=np.float64)
        self._published_at = time.monotonic()
        stamp = self.get_clock().now().to_msg()
        self._outputs['command'].publish(
            writer.write(values, stamp, self.config.command, self.period_s))

    def _publish_step(self, result) -> None:
        pubs = self._outputs
        pubs['action'].publish(Float64MultiArray(data=result.action.astype(float).tolist()))
        if self._gripper_output is not None:
            before = self._gripper.closed
            closed = self._gripper.update(float(result.action[self.gripper_index]))
            if closed != before:
                self._gripper_output.send(closed)
        if result.neighbors:
            msg = Float64MultiArray(data=[float(v) for n in result.neighbors
                                          for v in (n.episode, n.step, n.distance)])
            msg.layout.dim = [
                MultiArrayDimension(label='neighbor', size=len(result.neighbors), stride=3 *
                                    len(result.neighbors)),
                MultiArrayDimension(label='episode,step,distance', size=3, stride=3)]
            pubs['neighbors'].publish(msg)
        pubs['novelty'].publish(Float64(data=result.novelty / self.novelty_scale))
