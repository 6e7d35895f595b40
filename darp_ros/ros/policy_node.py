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
The DARP policy node: a lifecycle node that turns the newest inputs into safe commands.

configure loads the bundle and warms it up; activate starts the control timer; every tick
assembles the newest inputs, runs the shared runtime object, passes the command through the
safety layer and publishes it. Anything wrong on the way (a missing, stale or malformed
input, a failed or late inference) publishes a hold instead, logs why, and resumes by itself
when the inputs are good again. Subscriptions only store messages (on a robot they are served
by their own budgeted thread, input_pump.py, so an input flood cannot starve the loop); the
timer hands inference to one dedicated thread and returns, so callbacks never wait for the
model, and a step that misses its deadline becomes a hold rather than a late command. Every
command is limited by the time actually elapsed since the previous one; after a fault the
commands start again from the measured state once the holds have brought the arm to rest (or
none reached it), and deactivation brakes to rest with holds, one a period. The executor is
single-threaded on purpose: rclpy's multi-threaded executor spins on the GIL while a
callback group is busy, which starved inference to seconds per step on a 2-core machine.
"""

import dataclasses
import resource
import threading
import time
from typing import Optional

from darp_ros.control.command_pipeline import CommandPipeline
from darp_ros.control.node_config import (check_against_bundle, check_fault_behavior,
                                          node_config, NodeConfig)
from darp_ros.control.novelty_guard import NoveltyGuard
from darp_ros.control.observation_assembler import ObservationAssembler
from darp_ros.core.errors import ConfigError
from darp_ros.core.gripper import GripperHysteresis
from darp_ros.core.index import set_search_threads
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.ros.control_loop import ControlLoop
from darp_ros.ros.cycle_stats import CycleStats
from darp_ros.ros.gripper_output import GripperOutput
from darp_ros.ros.inference_thread import InferenceThread
from darp_ros.ros.input_pump import InputPump
from darp_ros.ros.node_interfaces import NodeInterfaces
from darp_ros.ros.parameters import declare_all, read_flat, validate_on_set
from darp_ros.ros.stop_signals import init_with_stop_signals
import numpy as np
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.lifecycle import LifecycleNode, State, TransitionCallbackReturn
import torch

RUNTIME_SETTABLE = ('max_input_age_s', 'max_future_stamp_s', 'fault_behavior',
                    'hold_timeout_s', 'max_step_time_s', 'log_throttle_s')


class PolicyNode(ControlLoop, NodeInterfaces, LifecycleNode):
    """Lifecycle node running a darp_ros model bundle at the control rate."""

    def __init__(self, node_name: str = 'policy_node', **kwargs):
        super().__init__(node_name, **kwargs)
        declare_all(self)
        # ROS ignores a parameter nobody declares, so a typo in a YAML file would pass silently.
        unknown = sorted(set(self._parameter_overrides) - set(self._parameters))
        if unknown:
            self.get_logger().warning(f'ignoring parameters this node does not have: {unknown}')
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.config: Optional[NodeConfig] = None
        self.runtime: Optional[PolicyRuntime] = None
        self.inference: Optional[InferenceThread] = None
        self._inputs: Optional[InputPump] = None
        self._input_subscriptions = []
        self._outputs = {}
        self._gripper_output: Optional[GripperOutput] = None
        self._own_timers = []
        self._active = False
        # Re-entrant: a fault found while publishing holds from inside the same section.
        self._output_lock = threading.RLock()
        self._faulted = False
        self._faulted_since = 0.0
        self._holding = False   # whether the current fault streams holds (or sends nothing)
        self._last_command: Optional[np.ndarray] = None
        self._at_rest = False           # the last two commands were equal
        self._stream_broken = False     # a faulty cycle since the last command sent nothing
        self._published_at: Optional[float] = None   # time.monotonic() of the last command
        # Per kind of fault (the text before its first colon): a new kind is named at once.
        self._logged_at = {}
        self._unlogged_faults = {}

    # -- lifecycle ------------------------------------------------------------------------

    def _LifecycleNodeMixin__change_state(self, transition_id: int) -> TransitionCallbackReturn:
        # rclpy raises out of the change_state service when a transition is not valid from
        # the current state (a doubled `ros2 lifecycle set ... activate`), which ends the
        # process. A refused request must leave the node as it was and say so.
        try:
            return super()._LifecycleNodeMixin__change_state(transition_id)
        except _rclpy.RCLError as exc:
            state = self._state_machine.current_state[1]
            self.get_logger().warning(f'refused lifecycle transition {transition_id} in state '
                                      f'{state!r}: {exc}')
            return TransitionCallbackReturn.FAILURE

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        """Load and check the bundle and the config, warm up, create the topics."""
        start = time.perf_counter()
        try:
            self._configure()
        except Exception as exc:  # noqa: B902 - rclpy would swallow it unlogged and leak
            self.get_logger().error(f'configure failed: {exc}')
            self._release()
            return TransitionCallbackReturn.FAILURE
        self.get_logger().info(self._startup_report(time.perf_counter() - start))
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        """Start commanding from a fresh policy history and a fresh safety state."""
        self.runtime.reset()
        self.commands.reset()
        self._gripper.reset()
        self._novelty_guard.reset()
        # Inputs cached before deactivation may predate its braking: wait for new ones.
        self.assembler.forget_inputs()
        self.stats.restart()
        self._faulted = False
        self._published_at = None
        self._last_command, self._at_rest, self._stream_broken = None, False, False
        self._synced_stamp = -float('inf')
        self._active = True
        self._own_timers.append(self.create_timer(self.period_s, self._tick))
        self.get_logger().info(f'active: commanding {self.config.command.kind} on '
                               f'{self._outputs["command"].topic_name} at '
                               f'{1.0 / self.period_s:g} Hz')
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        """Stop the control timer and brake to rest with holds, one a period."""
        with self._output_lock:
            self._active = False
        self._stop_control_timer()
        self.inference.wait()
        holds = self._brake_to_rest() if self.commands.ready else 0
        self.get_logger().info('inactive: control timer stopped, ' +
                               (f'at rest after {holds} holds' if holds
                                else 'nothing was commanded'))
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        """Release the model, the topics and the timers."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        """Release everything on the way out."""
        if self._active:
            self.on_deactivate(state)
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        """Stop the input and inference threads first: none may outlive the node."""
        self._release()
        super().destroy_node()

    def finish(self) -> None:
        """Before the process ends: a final hold if commanding, delivered before returning."""
        if self._state_machine.current_state[1] == 'active':
            self.trigger_deactivate()
        command = self._outputs.get('command')
        if command is not None:
            command.wait_for_all_acked(Duration(seconds=0.5))

    def _on_reset(self, request, response):
        """Start a new episode: forget the policy's history, restart from the measured state."""
        if self.runtime is None:
            response.success, response.message = False, 'not configured: nothing to reset'
            return response
        # The timer and the input callbacks share this executor: no new step can start here.
        self.inference.wait()
        self.runtime.reset()
        holds = 0
        if self.commands.ready:
            # Restarting a moving stream from the measured state at rest would be a jump (a
            # velocity command dropping to zero at once): brake to rest first. A simulator's
            # raw actions are exempt: there a reset is an episode boundary that moves the arm.
            if self._active and self._moving() and self.config.command.kind != 'array':
                with self._output_lock:
                    holds = self._brake_to_rest()
            self.commands.resync()
        self._gripper.reset()
        self._novelty_guard.reset()
        self.assembler.forget_stamps()
        braked = f'braked to rest with {holds} holds, ' if holds else ''
        self.get_logger().info(f'reset: policy history cleared, {braked}next command from the '
                               'measured state')
        response.success, response.message = True, f'{braked}policy history cleared'
        return response

    # -- configure ------------------------------------------------------------------------

    def _configure(self) -> None:
        config = node_config(read_flat(self))
        if not config.model_dir:
            raise ConfigError('parameter model_dir is empty: give a bundle directory')
        torch.set_num_threads(config.cpu_threads)
        set_search_threads(config.cpu_threads)
        runtime = PolicyRuntime.load(config.model_dir, config.device)
        check_against_bundle(config, runtime.obs_spec, runtime.action_dim)
        rate = config.control_rate_hz or runtime.model.control_rate_hz
        if not rate:
            raise ConfigError('control_rate_hz is 0 and the bundle records no control rate')
        reach = config.command.time_from_start_s
        if config.command.kind == 'joint_trajectory' and 0 < reach < 1.0 / rate:
            # The controller would reach each limited step sooner than the limits assume.
            raise ConfigError(f'command.time_from_start_s {reach:g} is shorter than the '
                              f'control period {1.0 / rate:g} s: give 0 (one period) or more')
        self.commands = CommandPipeline(config, runtime.action_dim)
        self.config, self.runtime, self.period_s = config, runtime, 1.0 / rate
        self.gripper_index = config.gripper_index(runtime.action_dim)
        self._gripper = GripperHysteresis(config.gripper.close_above, config.gripper.open_below)
        self.assembler = ObservationAssembler(config, runtime.obs_spec)
        self.stats = CycleStats(self.period_s)
        self.inference = InferenceThread()
        self.warmup_ms = self.inference.run(self._warm_up, config.warmup_steps)
        self.novelty_scale = runtime.novelty_scale()
        self._novelty_guard = NoveltyGuard(config.novelty_guard)
        self._create_topics()

    def _warm_up(self, steps: int) -> float:
        """Run inferences on a blank observation (CUDA init, allocator); return the last ms."""
        blank = {k.name: np.zeros(k.shape, np.uint8 if k.kind == 'rgb' else np.float32)
                 for k in self.runtime.obs_spec.keys}
        latency = float('nan')
        for _ in range(steps):
            latency = self.runtime.step(blank).latency_s * 1e3
        self.runtime.reset()
        return latency

    def _startup_report(self, seconds: float) -> str:
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        gpu = ''
        if torch.cuda.is_available():
            gpu = f', GPU memory {torch.cuda.max_memory_allocated() / 2 ** 20:.0f} MiB'
        info = self.runtime.describe()
        index = self.runtime.model.memory.index
        return (f"configured in {seconds:.2f} s: {info['policy']} over "
                f"{info['demonstration_rows']} demonstration rows on {info['device']} "
                f'(index {index.config.kind} on {index.device}), keys '
                f"{info['obs_keys']}, {1.0 / self.period_s:g} Hz, warm-up step "
                f'{self.warmup_ms:.1f} ms, peak RSS {rss_mib:.0f} MiB{gpu}')

    # -- parameters -----------------------------------------------------------------------

    def _on_set_parameters(self, params):
        # runtime, not config: cleanup (and a failed configure) release the runtime only.
        if self.runtime is not None and any(p.name == 'use_sim_time' for p in params):
            # With no /clock the control timer would stop and the node go silent.
            return SetParametersResult(
                successful=False, reason='use_sim_time cannot change while configured: '
                'deactivate and clean up first')
        result = validate_on_set(params)
        if result.successful and self.config is not None:
            changes = {p.name: p.value for p in params if p.name in RUNTIME_SETTABLE}
            try:
                check_fault_behavior(self.config.command.kind,
                                     changes.get('fault_behavior', self.config.fault_behavior))
            except ConfigError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
            for name, value in changes.items():     # safety settings: every change on record
                self.get_logger().info(f'{name}: {getattr(self.config, name)!r} -> {value!r}')
            self.config = dataclasses.replace(self.config, **changes)
            # The input ages are judged by the assembler: it must see the new values too.
            self.assembler.config = self.config
        return result


def main(args=None) -> None:
    """Run the policy node; with autostart it configures and activates itself."""
    stop = init_with_stop_signals(args)
    node = PolicyNode()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        if node.get_parameter('autostart').value:
            if node.trigger_configure() == TransitionCallbackReturn.SUCCESS:
                node.trigger_activate()
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    except ExternalShutdownException:
        pass
    finally:
        if rclpy.ok():
            node.finish()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
