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
success rates should agree; if they do not, the ROS path has a bug.
"""

from dataclasses import dataclass, field
from pathlib import Path
import threading
from typing import Optional

from darp_ros.core.bundle import read_manifest
from darp_ros.data.node_parameters import read_parameter_file
from darp_ros.ros.policy_node import PolicyNode
from darp_ros.ros.robosuite_bridge_node import RobosuiteBridge
from darp_ros.sim.evaluate import EvalOptions, EvalReport
from darp_ros.sim.rollout import EpisodeResult
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter

SIM_CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'sim.yaml'


@dataclass
class SimReport:
    """The evaluation figures of a run through ROS, plus what only the ROS path has."""

    report: EvalReport
    mode: str
    late_steps: int = 0
    rejected_commands: int = 0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return every figure, JSON-ready; latency is observation out -> command in."""
        return {**self.report.to_dict(), 'transport': f'ros2 ({self.mode})',
                'latency_measures': 'bridge publishes an observation -> its command arrives',
                'late_steps': self.late_steps, 'rejected_commands': self.rejected_commands}

    def text(self) -> str:
        """Return the summary printed by `darp sim`."""
        text = self.report.text().replace(
            'policy step latency', 'observation -> command latency through DDS')
        return (f'{text}\nthrough ROS 2 ({self.mode}): {self.late_steps} late steps, '
                f'{self.rejected_commands} rejected commands')


def default_config() -> Path:
    """Return config/sim.yaml, from the checkout or the installed share directory."""
    if SIM_CONFIG.is_file():
        return SIM_CONFIG
    from ament_index_python.packages import get_package_share_directory
    return Path(get_package_share_directory('darp_ros')) / 'config' / 'sim.yaml'


def run_sim(model_dir: str, episodes: int, seed: int, horizon: int = 0,
            mode: str = 'lockstep', placement_scale: float = 1.0,
            config: Optional[str] = None, device: str = 'cpu',
            timeout_s: Optional[float] = None) -> SimReport:
    """Run episodes seed, seed+1, ... through the bridge and the policy node; report."""
    params = read_parameter_file(config or default_config())
    params.update({'model_dir': str(model_dir), 'device': device, 'autostart': False})
    context = rclpy.Context()
    rclpy.init(context=context)
    nodes = []
    try:
        policy = PolicyNode(context=context, parameter_overrides=_overrides(params))
        nodes.append(policy)
        bridge = RobosuiteBridge(context=context, parameter_overrides=_overrides({
            'env_from': str(model_dir), 'seed': seed, 'episodes': episodes,
            'horizon': horizon, 'mode': mode, 'placement_scale': placement_scale,
            'use_sim_time': bool(params.get('use_sim_time', True))}))
        nodes.append(bridge)
        executor = SingleThreadedExecutor(context=context)
        for node in nodes:
            executor.add_node(node)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        policy.trigger_configure()
        if policy.runtime is None:
            raise RuntimeError('the policy node failed to configure (see its log above)')
        policy.trigger_activate()
        bridge.start()
        bridge.finished.wait(timeout_s)
        bridge.stop()
        executor.shutdown(timeout_sec=2.0)
        return _report(model_dir, bridge, policy, episodes, seed, placement_scale, mode)
    finally:
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown(context=context)


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
