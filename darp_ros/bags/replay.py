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
A recording replayed as the policy node would have seen it, one control tick at a time.

Messages go into the node's own latest-value cache in the order they were logged, with the
log time as their arrival time; at every tick the cache assembles an observation, or says
why it cannot (missing, stale, future-stamped or malformed input), exactly as the node would.
"""

from dataclasses import dataclass, field
from typing import Dict, Iterator, Optional, Tuple

from darp_ros.bags.reader import BagReader
from darp_ros.control.node_config import NodeConfig
from darp_ros.control.observation_assembler import (age_summary, InputFault,
                                                    ObservationAssembler, raw_decoder)
from darp_ros.core.errors import DatasetError, ObservationError
from darp_ros.core.spec import ObservationSpec
import numpy as np

TIE_S = 1e-6


@dataclass(frozen=True)
class ReplayStep:
    """One control tick of a replay: its time, and the observation or why there is none."""

    time_s: float
    obs: Optional[Dict[str, np.ndarray]]
    fault: str = ''
    ages_s: Dict[str, float] = field(default_factory=dict)


def replay_observations(reader: BagReader, config: NodeConfig, spec: ObservationSpec,
                        rate_hz: float) -> Iterator[ReplayStep]:
    """Yield one ReplayStep per tick at rate_hz, from the first message to the last."""
    if not rate_hz > 0:
        raise DatasetError(f'replay rate must be positive, got {rate_hz}')
    assembler = ObservationAssembler(config, spec)
    messages = reader.messages(config.topics())
    pending = next(messages, None)
    if pending is None:
        raise DatasetError(f'{reader.path}: no messages on {sorted(config.topics())}')
    period, tick, t = 1.0 / rate_hz, 0, pending.log_time_s
    start = t
    while True:
        # A message logged at the tick (to within float rounding) has arrived by it.
        while pending is not None and pending.log_time_s <= t + TIE_S:
            assembler.update(pending.topic, pending.msg, pending.log_time_s)
            pending = next(messages, None)
        ages = age_summary(assembler.ages(t))
        try:
            yield ReplayStep(t, assembler.assemble(t), '', ages)
        except InputFault as exc:
            yield ReplayStep(t, None, str(exc), ages)
        if pending is None:
            return
        tick += 1
        t = start + tick * period  # from the start, so rounding does not accumulate


def probe_inputs(reader: BagReader, config: NodeConfig,
                 spec: Optional[ObservationSpec] = None) -> Dict[str, Tuple[int, ...]]:
    """
    Decode the first message of every mapped input; return {key: shape}.

    With a model's spec, the values are also checked against it (size, image size), as
    the node's cache will check them.

    A wrong encoding or a message without the mapped field is then one clear error naming
    the bag, topic and message, instead of a fault on every tick of the replay.
    """
    checked = ObservationAssembler(config, spec) if spec is not None else None
    shapes, pending = {}, {m.key: m for m in config.inputs}
    for message in reader.messages(config.topics()):
        for mapping in [m for m in pending.values() if m.topic == message.topic]:
            try:
                values = (checked.decode(mapping.key, message.msg) if checked
                          else raw_decoder(mapping)(message.msg))
            except (ObservationError, AttributeError, TypeError, ValueError) as exc:
                raise DatasetError(f'{reader.path}: topic {message.topic} message '
                                   f'{message.index} ({mapping.key}): {exc}') from None
            shapes[mapping.key] = tuple(values.shape)
            del pending[mapping.key]
        if not pending:
            return {m.key: shapes[m.key] for m in config.inputs}
    missing = sorted({m.topic for m in pending.values()})
    raise DatasetError(f'{reader.path}: no message on {missing}')
