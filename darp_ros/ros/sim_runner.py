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
Run a model closed loop through ROS 2: the robosuite bridge and the policy node, over DDS.

This is `darp sim`: the same graph `sim.launch.py` starts, in one process, for a number of
episodes. With the same seeds it faces the same initial states as `darp eval`, so the two
success rates should agree; if they do not, the ROS path has a bug. With `record`, a recorder
node in the same executor writes the loop's topics into a rosbag2 (mcap) directory, the
kind of bag `darp bag-eval` reads, so offline evaluation can be tried without a robot.
"""

from dataclasses import dataclass, field
import threading
from typing import Optional

from darp_ros.control.node_parameters import read_parameter_file, shipped_config
from darp_ros.core.bundle import read_manifest
from darp_ros.ros.bag_recorder import BagRecorder, check_destination, RecordingError
from darp_ros.ros.policy_node import PolicyNode
from darp_ros.ros.robosuite_bridge_node import RobosuiteBridge
from darp_ros.sim.evaluate import EvalOptions, EvalReport
from darp_ros.sim.rollout import EpisodeResult
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter


@dataclass
class SimReport:
    """The evaluation figures of a run through ROS, plus what only the ROS path has."""

    report: EvalReport
    mode: str
    late_steps: int = 0
    rejected_commands: int = 0
    extra: dict = field(default_factory=dict)
    bag: Optional[str] = None

    def to_dict(self) -> dict:
        """Return every figure, JSON-ready; latency is observation out -> command in."""
        figures = {**self.report.to_dict(), 'transport': f'ros2 ({self.mode})',
                   'latency_measures': 'bridge publishes an observation -> its command arrives',
                   'late_steps': self.late_steps, 'rejected_commands': self.rejected_commands}
        if self.bag:
            figures['bag'] = self.bag
        return figures

    def text(self) -> str:
        """Return the summary printed by `darp sim`."""
        text = self.report.text().replace(
            'policy step latency', 'observation -> command latency through DDS')
        return (f'{text}\nthrough ROS 2 ({self.mode}): {self.late_steps} late steps, '
                f'{self.rejected_commands} rejected commands')


def run_sim(model_dir: str, episodes: int, seed: int, horizon: int = 0,
            mode: str = 'lockstep', placement_scale: float = 1.0,
            config: Optional[str] = None, device: str = 'cpu',
            timeout_s: Optional[float] = None, record: Optional[str] = None) -> SimReport:
    """
    Run episodes seed, seed+1, ... through the bridge and the policy node; report.

    With record, the loop's topics go into a new rosbag2 (mcap) directory there.
    """
    if record:
        check_destination(record)  # before minutes of simulation, not after
    params = read_parameter_file(config or shipped_config('sim.yaml'))
    params.update({'model_dir': str(model_dir), 'device': device, 'autostart': False})
    sim_time = bool(params.get('use_sim_time', True))
    context = rclpy.Context()
    rclpy.init(context=context)
    nodes, recorder = [], None
    try:
        policy = PolicyNode(context=context, parameter_overrides=_overrides(params))
        nodes.append(policy)
        bridge = RobosuiteBridge(context=context, parameter_overrides=_overrides({
            'env_from': str(model_dir), 'seed': seed, 'episodes': episodes,
            'horizon': horizon, 'mode': mode, 'placement_scale': placement_scale,
            'use_sim_time': sim_time}))
        nodes.append(bridge)
        if record:
            # On the policy's clock, as `ros2 bag record --use-sim-time` beside it would be.
            nodes.append(rclpy.create_node('bag_recorder', context=context,
                                           parameter_overrides=_overrides(
                                               {'use_sim_time': sim_time})))
            recorder = BagRecorder(nodes[-1], record)
        executor = SingleThreadedExecutor(context=context)
        for node in nodes:
            executor.add_node(node)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        policy.trigger_configure()
        if policy.runtime is None:
            raise RuntimeError('the policy node failed to configure (see its log above)')
        policy.trigger_activate()
        if recorder is not None:
            _start_recording(recorder, recorded_topics(policy, bridge))
        bridge.start()
        bridge.finished.wait(timeout_s)
        if recorder is not None:
            recorder.wait_until_quiet()  # the last command and outcome are on their way
        bridge.stop()
        executor.shutdown(timeout_sec=2.0)
        report = _report(model_dir, bridge, policy, episodes, seed, placement_scale, mode)
        if recorder is not None:
            report.bag = str(recorder.close())
        return report
    finally:
        if recorder is not None:
            recorder.abort()  # no-op after close; after a failure, no half-written bag
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown(context=context)


def recorded_topics(policy: PolicyNode, bridge: RobosuiteBridge) -> list:
    """Return the loop's topics worth a bag: inputs, command, outcomes, actions, novelty."""
    config = policy.config  # set by configure
    prefix = bridge.get_parameter('prefix').value
    return ([policy.resolve_topic_name(t) for t in sorted(config.topics())]
            + [policy.resolve_topic_name(config.command.topic),
               bridge.resolve_topic_name(f'{prefix}/episode'),
               policy.resolve_topic_name('~/action'), policy.resolve_topic_name('~/novelty')])


def _start_recording(recorder: BagRecorder, topics: list) -> None:
    recorder.record(topics)
    # The bridge has not published yet: once matched, the bag starts at the first observation.
    if not recorder.wait_for_publishers(5.0):
        raise RecordingError(f'the recorder found no publisher on some of {topics}')


def _overrides(values: dict):
    return [Parameter(name, value=value) for name, value in values.items()
            if value is not None]


def _report(model_dir, bridge, policy, episodes, seed, placement_scale, mode) -> SimReport:
    manifest = read_manifest(model_dir)
    options = EvalOptions(episodes=episodes, seed=seed, horizon=bridge.session.horizon,
                          placement_scale=placement_scale)
    results = [EpisodeResult(o['seed'], o['success'], o['steps'], o['seconds'],
                             list(o['latencies_s'])) for o in bridge.outcomes]
    report = EvalReport(str(model_dir), manifest['env_args']['env_name'],
                        manifest['policy']['name'], options, bridge.session.horizon,
                        1.0 / bridge.session.period_s, results)
    return SimReport(report, mode, bridge.late_steps, bridge.rejected_commands)
