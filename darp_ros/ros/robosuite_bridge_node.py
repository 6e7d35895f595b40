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
The robosuite bridge: a simulated Panda behind the topics a real arm's drivers publish.

It publishes joint states, the end-effector pose, the object state (a stamped vector) and
one rgb8 image per camera, all stamped with simulation time (and /clock), and applies the
raw actions it receives on its action topic. In lockstep mode the simulation advances only
when the command for the current observation has arrived, so a run is deterministic and
independent of machine speed; in real-time mode it steps at the control rate and reuses the
last command when a new one is late (counted). Episodes end on success or at the horizon;
each outcome is published, and the next episode starts from the next seed.
"""

import threading
import time
from typing import List, Optional

from darp_ros.core.errors import DarpError
from darp_ros.ros import sim_messages
from darp_ros.ros.parameters import declare, value as parameter_value
from darp_ros.ros.stop_signals import init_with_stop_signals
from darp_ros.sim.bridge_parameters import BRIDGE_PARAMETERS
from darp_ros.sim.session import SimSession
from darp_ros.sim.sources import env_args_from
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped
import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64MultiArray
from std_srvs.srv import Trigger

# Sim time starts here rather than at 0, which ROS tools read as "no time yet".
SIM_TIME_START_S = 1.0


# How long an episode start waits for the policy to confirm its reset.
POLICY_RESET_TIMEOUT_S = 2.0


class RobosuiteBridge(Node):
    """A robosuite environment published and commanded over ROS 2."""

    def __init__(self, node_name: str = 'robosuite_bridge', **kwargs):
        super().__init__(node_name, **kwargs)
        declare(self, BRIDGE_PARAMETERS)
        value = self._value
        env_args = env_args_from(value('env_from'), value('task'), value('cameras') or (),
                                 value('image_size'))
        self.session = SimSession(env_args, value('horizon'), value('placement_scale'))
        self.lockstep = value('mode') == 'lockstep'
        prefix, reliable = value('prefix'), QoSProfile(depth=10)
        self.frame_id = value('frame_id')
        self._pubs = {
            'joints': self.create_publisher(JointState, f'{prefix}/joint_states', reliable),
            'eef': self.create_publisher(PoseStamped, f'{prefix}/eef_pose', reliable),
            'object': self.create_publisher(JointState, f'{prefix}/object_state', reliable),
            'clock': self.create_publisher(Clock, '/clock', QoSProfile(depth=10)),
            'episode': self.create_publisher(DiagnosticStatus, f'{prefix}/episode', QoSProfile(
                depth=100, reliability=ReliabilityPolicy.RELIABLE,
                durability=DurabilityPolicy.TRANSIENT_LOCAL)),
        }
        self._image_pubs = {c: self.create_publisher(Image, f'{prefix}/{c}/image', reliable)
                            for c in self.session.cameras}
        self.create_subscription(Float64MultiArray, value('action_topic'), self._on_action,
                                 QoSProfile(depth=10))
        self.create_service(Trigger, '~/reset', self._on_reset)
        self.create_service(Trigger, '~/status', self._on_status)
        reset_name = self._value('policy_reset_service')
        self._policy_reset = self.create_client(Trigger, reset_name) if reset_name else None
        self._command: Optional[np.ndarray] = None
        self._command_ready = threading.Event()
        self._reset_requested = threading.Event()
        self._stop = threading.Event()
        self.finished = threading.Event()
        self.sim_time_s = SIM_TIME_START_S
        self.outcomes: List[dict] = []
        self.actions: List[np.ndarray] = []     # every action applied, in order
        self.latencies_s: List[float] = []
        self.late_steps = 0
        self.rejected_commands = 0
        self._published_at = 0.0
        self._episode_start = (0.0, 0, 0)
        self._thread = threading.Thread(target=self._run, name='robosuite_bridge', daemon=True)

    def _value(self, name: str):
        return parameter_value(self, name)

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start simulating on the bridge's own thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current step."""
        self._stop.set()
        self._command_ready.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)

    def _run(self) -> None:
        seed = self._value('seed')
        try:
            while not self._stop.is_set():
                self._episode(seed)
                if self._stop.is_set():
                    break
                wanted = self._value('next_seed')
                seed = wanted if wanted >= 0 else seed + 1
                if wanted >= 0:
                    self.set_parameters([rclpy.parameter.Parameter('next_seed', value=-1)])
                episodes = self._value('episodes')
                if episodes and len(self.outcomes) >= episodes:
                    break
        except DarpError as exc:
            self.get_logger().error(f'simulation stopped: {exc}')
        finally:
            self.finished.set()

    def _episode(self, seed: int) -> None:
        self._reset_requested.clear()
        self._episode_start = (time.perf_counter(), len(self.latencies_s), self.late_steps)
        obs = self.session.reset(seed)
        self._reset_policy()
        self._publish(obs)
        while not self.session.status().done and not self._stop.is_set():
            if self._reset_requested.is_set():
                self.get_logger().info(f'episode of seed {seed} reset at step '
                                       f'{self.session.steps} on request')
                return
            action = self._next_action()
            if action is None:
                continue
            self.sim_time_s += self.session.period_s
            self.actions.append(action)
            obs = self.session.step(action)
            # The last observation of an episode is not published: its command would arrive
            # after the next episode's first observation and be taken as the answer to it.
            if not self.session.status().done:
                self._publish(obs)
        self._report(self.session.status())

    def _reset_policy(self) -> None:
        """Ask the policy to forget the last episode's history before this one's first step."""
        client = self._policy_reset
        if client is None or not client.service_is_ready():
            return
        answered = threading.Event()
        future = client.call_async(Trigger.Request())
        future.add_done_callback(lambda _: answered.set())
        # The executor answers on another thread; this one runs the simulation.
        if not answered.wait(timeout=POLICY_RESET_TIMEOUT_S) or not future.result().success:
            self.get_logger().warning(f'{client.srv_name} did not confirm the reset: the '
                                      "policy's history may reach into the last episode")

    def _next_action(self) -> Optional[np.ndarray]:
        if self.lockstep:
            if not self._command_ready.wait(timeout=self._value('republish_s')):
                # The policy may have joined after this observation went out.
                self._publish(self.session.obs)
                return None
            if self._reset_requested.is_set():
                return None
            self.latencies_s.append(time.perf_counter() - self._published_at)
        else:
            time.sleep(max(0.0, self._published_at + self.session.period_s
                           - time.perf_counter()))
            if not self._command_ready.is_set():
                self.late_steps += 1
        self._command_ready.clear()
        return self._command if self._command is not None \
            else np.zeros(self.session.action_dim)

    def _on_action(self, msg: Float64MultiArray) -> None:
        try:
            values = self.session.check_action(msg.data)
        except DarpError as exc:
            self.rejected_commands += 1
            self.get_logger().error(f'rejected command on {self._value("action_topic")}: '
                                    f'{exc}', throttle_duration_sec=1.0)
            return
        self._command = values
        self._command_ready.set()

    # -- publishing ------------------------------------------------------------------------

    def _stamp(self):
        if self.lockstep or self.get_parameter('use_sim_time').value:
            return Time(seconds=self.sim_time_s).to_msg()
        return self.get_clock().now().to_msg()

    def _publish(self, obs) -> None:
        stamp = self._stamp()
        # A stale command must not answer this observation: only one sent after it counts.
        self._command_ready.clear()
        self._pubs['clock'].publish(Clock(clock=stamp))
        session, frame = self.session, self.frame_id
        self._pubs['joints'].publish(sim_messages.joint_state(
            stamp, session.arm_joints + session.gripper_joints,
            np.concatenate([obs['robot0_joint_pos'], obs['robot0_gripper_qpos']]),
            np.concatenate([obs['robot0_joint_vel'], obs['robot0_gripper_qvel']])))
        self._pubs['eef'].publish(sim_messages.pose(
            stamp, frame, obs['robot0_eef_pos'], obs['robot0_eef_quat']))
        if 'object' in obs:
            self._pubs['object'].publish(sim_messages.vector(stamp, 'object', obs['object']))
        for camera, pub in self._image_pubs.items():
            pub.publish(sim_messages.rgb_image(stamp, camera, obs[f'{camera}_image']))
        self._published_at = time.perf_counter()

    def _report(self, status) -> None:
        outcome = {'seed': status.seed, 'success': status.success, 'steps': status.steps,
                   'horizon': status.horizon}
        started, first_latency, late = self._episode_start
        self.outcomes.append({**outcome, 'seconds': time.perf_counter() - started,
                              'latencies_s': self.latencies_s[first_latency:],
                              'late_steps': self.late_steps - late})
        self._pubs['episode'].publish(DiagnosticStatus(
            level=DiagnosticStatus.OK if status.success else DiagnosticStatus.WARN,
            name='episode', message='success' if status.success else 'failure',
            hardware_id=self.session.env_args['env_name'],
            values=[KeyValue(key=k, value=str(v)) for k, v in outcome.items()]))
        self.get_logger().info(f'episode seed {status.seed}: '
                               f'{"success" if status.success else "failure"} after '
                               f'{status.steps} steps')

    # -- services --------------------------------------------------------------------------

    def _on_reset(self, request, response):
        self._reset_requested.set()
        self._command_ready.set()
        response.success = True
        wanted = self._value('next_seed')
        response.message = f'resetting to seed {wanted if wanted >= 0 else "next"}'
        return response

    def _on_status(self, request, response):
        status = self.session.status()
        response.success = True
        response.message = (f'seed {status.seed} step {status.steps}/{status.horizon} '
                            f'success {status.success}; episodes done {len(self.outcomes)}')
        return response


def summary(outcomes: List[dict]) -> str:
    """Return the one-line success summary of finished episodes, as `darp sim` prints it."""
    if not outcomes:
        return 'no episode finished'
    wins = sum(o['success'] for o in outcomes)
    seeds = [o['seed'] for o in outcomes]
    return (f'{wins}/{len(outcomes)} episodes succeeded ({wins / len(outcomes):.0%}), seeds '
            f'{min(seeds)}..{max(seeds)}')


def main(args=None) -> None:
    """Run the bridge until its episodes are done (then print the summary) or a signal."""
    stop = init_with_stop_signals(args)
    node = RobosuiteBridge()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    node.start()
    try:
        while not stop.is_set() and not node.finished.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    except ExternalShutdownException:
        pass
    finally:
        node.stop()   # joins the simulation thread before anything is destroyed
        if node.outcomes:
            print(f'robosuite_bridge: {summary(node.outcomes)}', flush=True)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
