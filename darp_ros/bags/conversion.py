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
Recordings to training data: bags into the robomimic HDF5 layout that `darp train` reads.

The bags may come from teleoperation or from an earlier policy. Each is replayed through
the node's own input cache at the control rate (bag_replay), so a sample holds exactly the
observation the node would have assembled at that tick. Its action is the recorded command
that answered the tick, mapped back through the config's command mapping (so a model
trained on it commands what the operator commanded), plus the gripper element from the
recorded gripper width where the config drives a gripper.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from darp_ros.bags.episode_split import EpisodeBoundaries, parse_split
from darp_ros.bags.reader import BagReader
from darp_ros.bags.recorded_commands import read_topic, RecordedTopic
from darp_ros.bags.replay import probe_inputs, replay_observations
from darp_ros.control.node_config import node_config, NodeConfig
from darp_ros.core.errors import ConfigError, DatasetError
from darp_ros.core.spec import ObservationSpec
from darp_ros.data.demos import Episode
from darp_ros.data.hdf5_writer import write_demos
import numpy as np

# Episodes shorter than this are dropped: a policy cannot learn from a lone sample.
MIN_EPISODE_STEPS = 2
# What the bag source records in env_args, since there is no simulator to rebuild.
BAG_ENV_NAME = 'rosbag'


@dataclass(frozen=True)
class ActionLayout:
    """Where the command's values and the gripper's go in the action vector."""

    dim: int
    indices: Tuple[int, ...]
    gripper_index: Optional[int]

    @classmethod
    def of(cls, config: NodeConfig, command_width: int) -> 'ActionLayout':
        """Return the layout the config implies for commands of command_width values."""
        command, gripper = config.command, int(config.gripper.enabled)
        if command.action_indices:
            indices = tuple(command.action_indices)
            dim = max(max(indices) + 1, len(indices) + gripper)
        else:
            # A relative pose command (7 values) comes from a 6-value delta action.
            width = 6 if command.kind == 'pose' and command.relative_to else command_width
            dim = width + gripper
            indices = command.indices_for(dim, config.gripper_index(dim))
        gripper_index = config.gripper_index(dim)
        covered = set(indices) | ({gripper_index} if gripper else set())
        if covered != set(range(dim)):
            raise ConfigError(f'action elements {sorted(set(range(dim)) - covered)} are neither '
                              'in command.action_indices nor the gripper: a bag cannot give '
                              'their values')
        return cls(dim, indices, gripper_index)


@dataclass
class ConversionReport:
    """What went into the training file, and what was left out and why."""

    out: str
    rate_hz: float
    episodes: List[Tuple[str, int]] = field(default_factory=list)
    ticks: int = 0
    dropped: Dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        """Count one tick left out for reason."""
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def to_dict(self) -> dict:
        """Return the figures, JSON-ready."""
        return {'out': self.out, 'rate_hz': self.rate_hz, 'ticks': self.ticks,
                'samples': sum(n for _, n in self.episodes),
                'episodes': [{'source': s, 'steps': n} for s, n in self.episodes],
                'dropped': dict(self.dropped)}

    def text(self) -> str:
        """Return a short human summary."""
        figures = self.to_dict()
        dropped = ', '.join(f'{n} {why}' for why, n in sorted(self.dropped.items())) or 'none'
        return (f"{self.out}: {len(self.episodes)} episodes, {figures['samples']} samples "
                f'at {self.rate_hz:g} Hz from {self.ticks} ticks (left out: {dropped})')


def convert_bags(bags: Sequence, parameters: Mapping, out, *, episode_split: str = '',
                 rate_hz: float = 0.0, env_args: Optional[Mapping] = None,
                 overwrite: bool = False) -> ConversionReport:
    """Turn bags into a training file at out (written whole or not at all); report."""
    if not bags:
        raise ConfigError('no bags to convert')
    config = node_config(parameters)
    if config.gripper.enabled and config.gripper.output != 'width':
        raise ConfigError("gripper.output 'action' sends action goals, which bags do not "
                          'record as topics: record the gripper width on gripper.topic, or '
                          'set gripper.enabled false to convert without the gripper')
    recorded_rate = (env_args or {}).get('env_kwargs', {}).get('control_freq')
    rate = rate_hz or config.control_rate_hz or recorded_rate or 0.0
    if not rate > 0:
        raise ConfigError('no sample rate: give --rate, control_rate_hz in the config, or '
                          '--env-from a source that records control_freq')
    split = parse_split(episode_split)
    report = ConversionReport(str(out), float(rate))
    episodes, spec = [], None
    for bag in bags:
        with BagReader(bag) as reader:
            bag_spec = _spec(reader, config)
            if spec is not None and bag_spec != spec:
                raise DatasetError(f'{bag}: observation shapes {_shapes(bag_spec)} differ from '
                                   f"the first bag's {_shapes(spec)}")
            spec = bag_spec
            for part, samples in enumerate(
                    _bag_episodes(reader, config, spec, split, rate, report)):
                name = f'{reader.path}#{part}'
                if len(samples) < MIN_EPISODE_STEPS:
                    report.dropped['steps in too-short episodes'] = (
                        report.dropped.get('steps in too-short episodes', 0) + len(samples))
                    continue
                episodes.append(_episode(f'demo_{len(episodes)}', samples))
                report.episodes.append((name, len(samples)))
    if not episodes:
        raise DatasetError(f'no samples: {report.text()}')
    args = dict(env_args) if env_args else {'env_name': BAG_ENV_NAME, 'type': 0}
    args['env_kwargs'] = {**args.get('env_kwargs', {}), 'control_freq': rate}
    args['source'] = {'bags': [str(b) for b in bags], 'command_topic': config.command.topic}
    write_demos(out, episodes, args, overwrite=overwrite)
    return report


def _spec(reader: BagReader, config: NodeConfig) -> ObservationSpec:
    shapes = probe_inputs(reader, config)
    images = [m.key for m in config.inputs if m.is_image]
    return ObservationSpec.from_shapes(shapes, images)


def _shapes(spec: ObservationSpec) -> dict:
    return {k.name: k.shape for k in spec.keys}


def _bag_episodes(reader: BagReader, config: NodeConfig, spec: ObservationSpec, split,
                  rate: float, report: ConversionReport):
    """Yield the samples of each episode of one bag: lists of (obs, action)."""
    period = 1.0 / rate
    commands = read_topic(reader, config.command.topic)
    if not commands.values:
        raise DatasetError(f'{reader.path}: no message on the command topic '
                           f'{config.command.topic}')
    layout = ActionLayout.of(config, len(commands.values[0]))
    widths = sorted({len(v) for v in commands.values})
    if len(widths) > 1:
        raise DatasetError(f'{reader.path}: topic {config.command.topic}: commands have '
                           f'{widths} values; one width expected')
    gripper = _gripper_widths(reader, config)
    boundaries = EpisodeBoundaries.of(reader, split)
    samples = []
    for step in replay_observations(reader, config, spec, rate):
        report.ticks += 1
        answer = commands.answer_index(step.time_s, period)
        if step.obs is None:
            report.drop('ticks without a complete, fresh observation')
            continue
        if answer is None:
            report.drop('ticks without a recorded command')
            continue
        command = commands.values[answer]
        # A marker ends the episode whose last command it follows.
        if boundaries.starts_episode(step.time_s, commands.times_s[answer]):
            yield samples
            samples = []
        samples.append((step.obs, _action(config, layout, command, step.obs, gripper,
                                          step.time_s + period)))
    if samples:
        yield samples


def _gripper_widths(reader: BagReader, config: NodeConfig) -> Optional[RecordedTopic]:
    if not config.gripper.enabled:
        return None
    if not reader.has(config.gripper.topic):
        raise DatasetError(f'{reader.path}: no topic {config.gripper.topic} (gripper.topic) '
                           'to read the gripper commands from')
    return read_topic(reader, config.gripper.topic)


def _action(config: NodeConfig, layout: ActionLayout, command: np.ndarray, obs,
            gripper: Optional[RecordedTopic], until_s: float) -> np.ndarray:
    action = np.zeros(layout.dim, np.float32)
    action[list(layout.indices)] = config.command.action(command, obs, layout.indices)
    if gripper is not None:
        g = config.gripper
        width = gripper.latest_at(until_s)
        closed = width is not None and width[0] < 0.5 * (g.open_width + g.closed_width)
        # Values past the hysteresis thresholds, so the node reproduces the recorded state.
        action[layout.gripper_index] = (max(1.0, g.close_above) if closed
                                        else min(-1.0, g.open_below))
    return action


def _episode(name: str, samples) -> Episode:
    keys = samples[0][0].keys()
    obs = {k: np.stack([o[k] for o, _ in samples]) for k in keys}
    return Episode(name, obs, np.stack([a for _, a in samples]))
