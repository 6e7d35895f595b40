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
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from darp_ros.bags.episode_split import EpisodeBoundaries, parse_split
from darp_ros.bags.reader import BagReader
from darp_ros.bags.recorded_commands import read_topic
from darp_ros.bags.replay import probe_inputs, replay_observations
from darp_ros.control.command_pipeline import CommandPipeline
from darp_ros.control.node_config import check_against_bundle, node_config
from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.stats import latency_summary
import numpy as np
from tqdm import tqdm


# A published value further than this from the model's own command was clipped.
CLIP_TOLERANCE = 1e-6


@dataclass
class BagEvalReport:
    """What the model would have done over a recording, and how that compares."""

    bag: str
    model: str
    rate_hz: float
    command_topic: str = ''
    times_s: List[float] = field(default_factory=list)
    # What the node would have published (after the safety layer), and what the model asked.
    commands: List[Optional[np.ndarray]] = field(default_factory=list)
    requested: List[Optional[np.ndarray]] = field(default_factory=list)
    recorded: List[Optional[np.ndarray]] = field(default_factory=list)
    novelty: List[Optional[float]] = field(default_factory=list)
    input_age_s: List[Optional[float]] = field(default_factory=list)
    faults: Dict[str, int] = field(default_factory=dict)
    clipped_steps: int = 0      # steps the safety layer changed, the gripper's range aside
    clipped_per_element: List[int] = field(default_factory=list)
    gripper_element: Optional[int] = None   # command element that drives the gripper
    latencies_s: List[float] = field(default_factory=list)
    episodes: int = 1           # replayed episodes: the policy started anew at each

    def comparison(self, before_safety: bool = False) -> Optional[dict]:
        """
        Return per-element MAE, RMSE, max error and correlation against the recording.

        Published commands by default (what the robot would have received), or the model's
        own before the safety layer; only ticks that have both count.
        """
        new = self.requested if before_safety else self.commands
        pairs = [(c, r) for c, r in zip(new, self.recorded)
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
        novelty = [n for n in self.novelty if n is not None]
        stale = sum(n for kind, n in self.faults.items() if 'stale' in kind)
        return {'bag': self.bag, 'model': self.model, 'rate_hz': self.rate_hz,
                'command_topic': self.command_topic, 'episodes': self.episodes,
                'steps': steps, 'acted_steps': acted,
                'fault_fraction': (steps - acted) / steps if steps else 0.0,
                'stale_fraction': stale / steps if steps else 0.0,
                'faults': dict(self.faults), 'clipped_steps': self.clipped_steps,
                'clipped_per_element': list(self.clipped_per_element),
                'gripper_element': self.gripper_element,
                'novelty': {'median': float(np.median(novelty)) if novelty else None,
                            'max': float(np.max(novelty)) if novelty else None},
                'latency': latency_summary(self.latencies_s), 'comparison': self.comparison(),
                'comparison_before_safety': self.comparison(before_safety=True)}

    def text(self) -> str:
        """Return a short human summary."""
        f = self.to_dict()
        lines = [f"{f['bag']}: {f['steps']} ticks at {self.rate_hz:g} Hz, acted on "
                 f"{f['acted_steps']} ({f['fault_fraction']:.1%} without a complete "
                 f"observation, {f['stale_fraction']:.1%} stale)",
                 f"  clipped by the safety limits: {f['clipped_steps']} steps"
                 + (' (the gripper element clipped to its range is not counted)'
                    if self.gripper_element is not None else ''),
                 '  clipped per command element: ' + ', '.join(
                     f"[{i}]{' (gripper)' if i == self.gripper_element else ''} {n}"
                     for i, n in enumerate(f['clipped_per_element']))]
        if f['novelty']['median'] is not None:
            lines.append('  novelty (x typical demo spacing): median '
                         f"{f['novelty']['median']:.2f}, max {f['novelty']['max']:.2f}")
        if f['latency']['steps']:
            lines.append(f"  policy step latency: median {f['latency']['median_ms']:.2f} ms, "
                         f"p99 {f['latency']['p99_ms']:.2f} ms")
        comparison = f['comparison']
        if comparison:
            mae = ', '.join(f'{v:.4g}' for v in comparison['mae'])
            lines.append(f"  vs recorded {self.command_topic} ({comparison['steps']} steps): "
                         f'MAE per element [{mae}]')
        elif self.command_topic:
            lines.append(f'  vs recorded {self.command_topic}: no tick had both commands')
        for kind, count in sorted(self.faults.items()):
            lines.append(f'  fault: {kind}: {count} ticks')
        return '\n'.join(lines)


def evaluate_bag(model_dir: str, bag: str, parameters: Mapping,
                 command_topic: Optional[str] = None,
                 rate_hz: float = 0.0, device: str = 'cpu',
                 progress: bool = False, episode_split: str = '') -> BagEvalReport:
    """
    Replay bag through the model with the node parameters given; see the module doc.

    command_topic names the recorded commands to compare with: None takes the config's
    command topic when the bag has it, '' compares with nothing. episode_split (a marker
    topic or a gap in seconds, as bag2hdf5 takes it) starts the policy's history and the
    safety state anew at each episode, as the node's ~/reset does on a robot.
    """
    split = parse_split(episode_split)
    config = node_config(parameters)
    runtime = PolicyRuntime.load(model_dir, device)
    check_against_bundle(config, runtime.obs_spec, runtime.action_dim)
    rate = rate_hz or config.control_rate_hz or runtime.model.control_rate_hz
    if not rate:
        raise ConfigError('no replay rate: give one, or a config or bundle that records one')
    commands = CommandPipeline(config, runtime.action_dim)
    scale = runtime.novelty_scale()
    report = BagEvalReport(str(bag), str(model_dir), float(rate))
    if config.gripper.enabled:
        gripper = config.gripper_index(runtime.action_dim)
        report.gripper_element = next((k for k, i in enumerate(commands.indices)
                                       if i == gripper), None)
    with BagReader(bag) as reader:
        probe_inputs(reader, config, runtime.obs_spec)
        if command_topic is None:
            command_topic = config.command.topic if reader.has(config.command.topic) \
                else ''
        report.command_topic = command_topic
        recorded = read_topic(reader, command_topic) if command_topic else None
        boundaries = EpisodeBoundaries.of(reader, split)
        ticks = tqdm(replay_observations(reader, config, runtime.obs_spec, rate),
                     total=int(reader.duration_s() * rate) + 1, unit='tick',
                     disable=not progress, desc=Path(bag).name)
        for step in ticks:
            report.times_s.append(step.time_s)
            report.input_age_s.append(max(step.ages_s.values(), default=None))
            report.recorded.append(
                None if recorded is None else recorded.answer_to(step.time_s, 1.0 / rate))
            if step.obs is None:
                kind = step.fault.split(':')[0]
                report.faults[kind] = report.faults.get(kind, 0) + 1
                report.commands.append(None)
                report.requested.append(None)
                report.novelty.append(None)
                continue
            if not report.latencies_s:
                # The first step pays for lazy set-up (allocations, kernels); keep it out
                # of the latency figures, as the node's warm-up does.
                runtime.step(step.obs)
                runtime.reset()
            if boundaries.starts_episode(step.time_s):
                runtime.reset()
                commands.reset()
                report.episodes += 1
            result = runtime.step(step.obs)
            report.latencies_s.append(result.latency_s)
            report.novelty.append(result.novelty / scale)
            command, checked = commands.apply(result.action, step.obs, 1.0 / rate)
            changed = np.abs(np.asarray(command, float) - checked.values) > CLIP_TOLERANCE
            if not report.clipped_per_element:
                report.clipped_per_element = [0] * changed.size
            report.clipped_per_element = [n + int(c) for n, c in
                                          zip(report.clipped_per_element, changed)]
            # The gripper element held to its own [-1, 1] range is no safety intervention.
            if report.gripper_element is not None:
                changed[report.gripper_element] = False
            report.clipped_steps += bool(changed.any())
            report.requested.append(command)
            report.commands.append(checked.values)
    return report
