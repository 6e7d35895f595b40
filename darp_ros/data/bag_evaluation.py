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
Open-loop evaluation of a model on a recording: what it would have commanded, step by step.

The bag is replayed through the node's own input cache (bag_replay), the runtime object
acts on every complete observation, and the safety layer the robot config describes checks
the command. Where the bag holds the commands that were actually sent, the new model's are
compared with them element by element.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.stats import latency_summary
from darp_ros.data.bag_reader import BagReader
from darp_ros.data.bag_replay import replay_observations
from darp_ros.data.command_pipeline import CommandPipeline
from darp_ros.data.node_config import check_against_bundle, node_config
import numpy as np


def command_values(msg) -> np.ndarray:
    """Return a recorded command message as the vector the node would have published."""
    if hasattr(msg, 'points'):                      # trajectory_msgs/JointTrajectory
        return np.asarray(msg.points[0].positions, float) if len(msg.points) else np.empty(0)
    if hasattr(msg, 'twist'):                       # geometry_msgs/TwistStamped
        t = msg.twist
        return np.array([t.linear.x, t.linear.y, t.linear.z,
                         t.angular.x, t.angular.y, t.angular.z])
    if hasattr(msg, 'pose'):                        # geometry_msgs/PoseStamped
        p, q = msg.pose.position, msg.pose.orientation
        return np.array([p.x, p.y, p.z, q.x, q.y, q.z, q.w])
    return np.asarray(msg.data, float)              # std_msgs/Float64MultiArray


@dataclass
class BagEvalReport:
    """What the model would have done over a recording, and how that compares."""

    bag: str
    model: str
    rate_hz: float
    times_s: List[float] = field(default_factory=list)
    commands: List[Optional[np.ndarray]] = field(default_factory=list)
    recorded: List[Optional[np.ndarray]] = field(default_factory=list)
    novelty: List[float] = field(default_factory=list)
    faults: Dict[str, int] = field(default_factory=dict)
    clipped_steps: int = 0
    latencies_s: List[float] = field(default_factory=list)

    def comparison(self) -> Optional[dict]:
        """Return per-element MAE, RMSE, max error and correlation, where both exist."""
        pairs = [(c, r) for c, r in zip(self.commands, self.recorded)
                 if c is not None and r is not None and len(c) == len(r)]
        if not pairs:
            return None
        new, old = (np.array(x) for x in zip(*pairs))
        error = new - old
        corr = [float(np.corrcoef(new[:, j], old[:, j])[0, 1])
                if new[:, j].std() > 0 and old[:, j].std() > 0 else None
                for j in range(new.shape[1])]
        return {'steps': len(pairs), 'mae': np.abs(error).mean(0).tolist(),
                'rmse': np.sqrt((error ** 2).mean(0)).tolist(),
                'max_error': np.abs(error).max(0).tolist(), 'correlation': corr}

    def to_dict(self) -> dict:
        """Return the figures, JSON-ready."""
        steps = len(self.times_s)
        acted = sum(c is not None for c in self.commands)
        return {'bag': self.bag, 'model': self.model, 'rate_hz': self.rate_hz,
                'steps': steps, 'acted_steps': acted,
                'fault_fraction': (steps - acted) / steps if steps else 0.0,
                'faults': dict(self.faults), 'clipped_steps': self.clipped_steps,
                'novelty': {'median': float(np.median(self.novelty)) if self.novelty else None,
                            'max': float(np.max(self.novelty)) if self.novelty else None},
                'latency': latency_summary(self.latencies_s), 'comparison': self.comparison()}


def evaluate_bag(model_dir: str, bag: str, parameters: Mapping, command_topic: str = '',
                 rate_hz: float = 0.0, device: str = 'cpu') -> BagEvalReport:
    """Replay bag through the model with the node parameters given; see the module doc."""
    config = node_config(parameters)
    runtime = PolicyRuntime.load(model_dir, device)
    check_against_bundle(config, runtime.obs_spec, runtime.action_dim)
    rate = rate_hz or config.control_rate_hz or runtime.model.control_rate_hz
    if not rate:
        raise ConfigError('no replay rate: give one, or a config or bundle that records one')
    commands = CommandPipeline(config, runtime.action_dim)
    scale = runtime.novelty_scale()
    report = BagEvalReport(str(bag), str(model_dir), float(rate))
    with BagReader(bag) as reader:
        recorded = _recorded_commands(reader, command_topic)
        for step in replay_observations(reader, config, runtime.obs_spec, rate):
            report.times_s.append(step.time_s)
            report.recorded.append(_first_after(recorded, step.time_s, 1.0 / rate))
            if step.obs is None:
                kind = step.fault.split(':')[0]
                report.faults[kind] = report.faults.get(kind, 0) + 1
                report.commands.append(None)
                continue
            result = runtime.step(step.obs)
            report.latencies_s.append(result.latency_s)
            report.novelty.append(result.novelty / scale)
            command, checked = commands.apply(result.action, step.obs, 1.0 / rate)
            report.clipped_steps += bool(checked.interventions)
            report.commands.append(command)
    return report


def _recorded_commands(reader: BagReader, topic: str):
    """Return (log times, command vectors) of the recorded commands, or empty ones."""
    if not topic:
        return np.empty(0), []
    messages = [(m.log_time_s, command_values(m.msg)) for m in reader.messages([topic])]
    return np.array([t for t, _ in messages]), [v for _, v in messages]


def _first_after(recorded, t: float, within: float) -> Optional[np.ndarray]:
    """Return the first recorded command logged in (t, t + within]: the answer to tick t."""
    times, values = recorded
    i = int(np.searchsorted(times, t, side='right'))
    return values[i] if i < len(values) and times[i] <= t + within else None
