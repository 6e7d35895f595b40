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
What the policy node subscribes, publishes, serves and reports, set up and torn down as one.

A mixin of PolicyNode: configure calls _create_topics once config, assembler and runtime
exist; clean-up, shutdown and destroy call _release, which leaves nothing of the node's
subscriptions, publishers, services, timers or inference thread behind.
"""

from darp_ros.control.observation_assembler import age_summary
from darp_ros.core.errors import ConfigError
from darp_ros.ros.command_messages import WRITERS
from darp_ros.ros.diagnostics import diagnostics_message
from darp_ros.ros.gripper_output import GripperOutput
from darp_ros.ros.input_pump import InputPump
from darp_ros.ros.qos import command_qos, input_qos
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import Float64, Float64MultiArray
from std_srvs.srv import Trigger

MSG_TYPES = {'joint_state': JointState, 'pose_stamped': PoseStamped,
             'float64_multi_array': Float64MultiArray, 'image': Image,
             'compressed_image': CompressedImage}


class NodeInterfaces:
    """Create and destroy the node's topics, services and timers; publish its diagnostics."""

    def _create_topics(self) -> None:
        config = self.config
        topics = config.topics()
        for topic, mappings in topics.items():
            kinds = {m.msg_type for m in mappings}
            if len(kinds) > 1:
                raise ConfigError(f'keys {[m.key for m in mappings]} read {topic} as different '
                                  f'message types {sorted(kinds)}')
        # On a robot, inputs are taken on their own thread at a bounded rate: a flood on one
        # topic cannot take the cores the control loop needs. In lockstep they stay on this
        # node's executor, in order with /clock: a set handled before its clock message
        # would be judged stamped in the future.
        owner = self
        if not config.sync_inputs:
            self._inputs = InputPump(self, len(topics))
            owner = self._inputs.node
        for topic, mappings in topics.items():
            mapping = mappings[0]
            self._input_subscriptions.append(owner.create_subscription(
                MSG_TYPES[mapping.msg_type], topic,
                lambda msg, topic=topic: self._on_input(topic, msg),
                input_qos(mapping)))
        if self._inputs is not None:
            self._inputs.start()
        writer = WRITERS[config.command.kind]
        self._outputs = {
            'command': self.create_publisher(writer.msg_type, config.command.topic,
                                             command_qos()),
            'action': self.create_publisher(Float64MultiArray, '~/action', 10),
            'neighbors': self.create_publisher(Float64MultiArray, '~/neighbors', 10),
            'novelty': self.create_publisher(Float64, '~/novelty', 10),
            'diagnostics': self.create_publisher(DiagnosticArray, '/diagnostics', 10),
        }
        if config.gripper.enabled:
            self._gripper_output = GripperOutput(self, config.gripper)
        self._own_services = [self.create_service(Trigger, '~/reset', self._on_reset)]
        self._counts_at = (self._now(), dict(self.assembler.counts))
        self._own_timers.append(
            self.create_timer(config.diagnostics_period_s, self._publish_diagnostics))

    def _release(self) -> None:
        self._active = False
        for timer in self._own_timers:
            self.destroy_timer(timer)
        if self._inputs is not None:
            self._inputs.close()   # destroys its node's subscriptions
            self._inputs = None
        else:
            for sub in self._input_subscriptions:
                self.destroy_subscription(sub)
        self._input_subscriptions = []
        for pub in self._outputs.values():
            self.destroy_publisher(pub)
        for service in getattr(self, '_own_services', ()):
            self.destroy_service(service)
        self._own_services = []
        if self._gripper_output is not None:
            self._gripper_output.destroy()
            self._gripper_output = None
        self._own_timers, self._outputs = [], {}
        if self.inference is not None:
            self.inference.close()
        self.runtime, self.inference = None, None

    def _stop_control_timer(self) -> None:
        # The diagnostics timer (created at configure) stays; the control timer is the last.
        if len(self._own_timers) > 1:
            self.destroy_timer(self._own_timers.pop())

    def _publish_diagnostics(self) -> None:
        now = self._now()
        then, counts_then = self._counts_at
        counts = dict(self.assembler.counts)
        span = max(now - then, 1e-9)
        rates = {t: (counts[t] - counts_then.get(t, 0)) / span for t in counts}
        self._counts_at = (now, counts)
        topic = self._outputs['command'].topic_name
        # Another node commanding the same controller interleaves with this one's commands:
        # the limits hold for each stream, not for what the controller gets.
        rivals = self.count_publishers(topic) - 1
        if rivals > 0:
            self.get_logger().warning(f'{rivals} other publisher(s) on the command topic {topic}: '
                                      'the controller gets both streams',
                                      throttle_duration_sec=10.0)
        self._outputs['diagnostics'].publish(diagnostics_message(
            self.get_clock().now().to_msg(), f'{self.get_name()}: policy',
            self.config.model_dir, self._active, self._faulted, self.stats, rates,
            age_summary(self.assembler.ages(now)),
            {'policy': self.runtime.policy_name, 'novelty_scale': self.novelty_scale,
             'other_command_publishers': rivals},
            holding=self._holding))
