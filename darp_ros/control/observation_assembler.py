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
Latest-value-per-topic cache that turns the newest messages into one observation dict.

The policy node feeds it from its subscriptions and assembles in its control timer; the bag
replay tool feeds it from a bag in time order. Both therefore see the same observation for
the same messages, with the same staleness rules. No ROS imports: messages are duck-typed.
"""

from dataclasses import dataclass, field
import math
from typing import Any, Callable, Dict, Mapping, Optional

from darp_ros.control.field_messages import array_values, JointPicker, pose_values, stamp_seconds
from darp_ros.control.image_messages import compressed_to_rgb, image_to_rgb, resize_rgb
from darp_ros.control.input_mapping import InputMapping
from darp_ros.control.node_config import NodeConfig
from darp_ros.core.errors import ObservationError
from darp_ros.core.spec import ObservationSpec
import numpy as np


def raw_decoder(mapping: InputMapping) -> Callable[[Any], np.ndarray]:
    """Return what reads mapping's values from a message, before any shape check."""
    if mapping.is_image:
        return image_to_rgb if mapping.msg_type == 'image' else compressed_to_rgb
    if mapping.msg_type == 'joint_state':
        return JointPicker(mapping.joints, mapping.field)
    if mapping.msg_type == 'pose_stamped':
        return lambda msg: pose_values(msg, mapping.field)
    return lambda msg: array_values(msg, mapping.indices or None)


FLOAT32_MAX = float(np.finfo(np.float32).max)


class InputFault(ObservationError):
    """An input is missing, stale, stamped in the future or undecodable: do not act on it."""


@dataclass
class Slot:
    """The newest message of one topic, when it arrived, and what was decoded from it."""

    msg: Any
    arrival_s: float
    stamp_s: Optional[float]
    decoded: Dict[str, np.ndarray] = field(default_factory=dict)
    problem: Optional[str] = None   # why its stamp cannot be trusted, if it cannot


@dataclass(frozen=True)
class TopicAge:
    """How old the newest message of a topic is, by its stamp and by its arrival."""

    stamp_age_s: Optional[float]
    arrival_age_s: float


def _header_stamp(msg) -> Optional[float]:
    header = getattr(msg, 'header', None)
    return None if header is None else stamp_seconds(header.stamp)


class ObservationAssembler:
    """Cache the newest message per topic; assemble a checked observation on demand."""

    def __init__(self, config: NodeConfig, obs_spec: ObservationSpec):
        self.config = config
        self.spec = obs_spec
        self.slots: Dict[str, Slot] = {}
        # Grouped once: assemble() runs every control tick.
        self.topics = config.topics()
        self.counts: Dict[str, int] = dict.fromkeys(self.topics, 0)
        self._decoders = {m.key: self._decoder(m) for m in config.inputs}
        self._newest_stamp: Dict[str, float] = {}

    def update(self, topic: str, msg: Any, arrival_s: float) -> None:
        """Store msg as the newest of topic (cheap: decoding waits until it is needed)."""
        stamp = _header_stamp(msg)
        newest = self._newest_stamp.get(topic)
        problem = None
        if stamp is None and self.config.require_stamps:
            problem = f'{topic}: stamp is 0 and require_stamps is set: its age is unknown'
        elif newest is not None:
            # A topic that was stamped stays stamped, and its stamps never go back: either
            # means a restarted or misbehaving publisher, whose data cannot be dated.
            if stamp is None:
                problem = f'{topic}: stamp is 0 after stamped messages'
            elif stamp < newest:
                problem = (f'{topic}: stamp went back {newest - stamp:.3f} s '
                           '(a restarted publisher or a clock jump)')
        if stamp is not None and problem is None and \
                stamp <= arrival_s + self.config.max_future_stamp_s:
            self._newest_stamp[topic] = stamp   # a future stamp is refused, not a reference
        # One assignment replaces the slot, so a reader in another thread never sees a mix.
        self.slots[topic] = Slot(msg, arrival_s, stamp, problem=problem)
        self.counts[topic] = self.counts.get(topic, 0) + 1

    def forget_stamps(self) -> None:
        """Accept any stamp next (a new episode or session may restart a simulated clock)."""
        self._newest_stamp = {}

    def forget_inputs(self) -> None:
        """Drop every cached message: the next observation waits for new ones on each topic."""
        self.slots = {}
        self.forget_stamps()

    def common_stamp(self) -> Optional[float]:
        """Return the stamp every topic's newest message shares, or None if they differ."""
        stamps = set()
        for topic in self.counts:
            slot = self.slots.get(topic)
            if slot is None or slot.stamp_s is None:
                return None
            stamps.add(slot.stamp_s)
        return stamps.pop() if len(stamps) == 1 else None

    def ages(self, now_s: float) -> Dict[str, TopicAge]:
        """Return the age of every topic heard from so far."""
        return {topic: TopicAge(None if slot.stamp_s is None else now_s - slot.stamp_s,
                                now_s - slot.arrival_s)
                for topic, slot in list(self.slots.items())}

    def assemble(self, now_s: float) -> Dict[str, np.ndarray]:
        """Return {key: array} from the newest messages, or raise InputFault saying why not."""
        max_age = self.config.max_input_age_s
        obs = {}
        for topic, mappings in self.topics.items():
            slot = self.slots.get(topic)
            if slot is None:
                missing = [t for t in self.topics if t not in self.slots]
                raise InputFault(f'no message yet on {", ".join(missing)}')
            arrival_age = now_s - slot.arrival_s
            if -arrival_age > self.config.max_future_stamp_s:
                # The clock stepped back (NTP, a set date): by it, an input that stopped
                # arriving would look fresh for as long as the step.
                raise InputFault(f'{topic}: last message arrived {-arrival_age:.3f} s in the '
                                 'future: the clock went back; waiting for a new one')
            if arrival_age > max_age:
                raise InputFault(f'{topic} is stale: last message arrived {arrival_age:.3f} s '
                                 f'ago (max_input_age_s {max_age})')
            if slot.stamp_s is not None:
                stamp_age = now_s - slot.stamp_s
                if stamp_age > max_age:
                    raise InputFault(f'{topic} is stale: stamp is {stamp_age:.3f} s old '
                                     f'(max_input_age_s {max_age})')
                if -stamp_age > self.config.max_future_stamp_s:
                    raise InputFault(f'{topic} is stamped {-stamp_age:.3f} s in the future '
                                     f'(max_future_stamp_s {self.config.max_future_stamp_s}): '
                                     'clocks disagree')
            if slot.problem:
                raise InputFault(slot.problem)
            for mapping in mappings:
                obs[mapping.key] = self._decoded(topic, slot, mapping)
        return obs

    def decode(self, key: str, msg: Any) -> np.ndarray:
        """Return key's checked values from msg (raises ObservationError when they do not fit)."""
        return self._decoders[key](msg)

    def _decoded(self, topic: str, slot: Slot, mapping: InputMapping) -> np.ndarray:
        value = slot.decoded.get(mapping.key)
        if value is None:
            try:
                value = self._decoders[mapping.key](slot.msg)
            except ObservationError as exc:
                raise InputFault(f'{topic} ({mapping.key}): {exc}') from None
            except (AttributeError, TypeError) as exc:
                raise InputFault(f'{topic} ({mapping.key}): not a {mapping.msg_type} message: '
                                 f'{exc}') from None
            slot.decoded[mapping.key] = value
        return value

    def _decoder(self, mapping: InputMapping) -> Callable[[Any], np.ndarray]:
        key = next(k for k in self.spec.keys if k.name == mapping.key)
        decode = raw_decoder(mapping)
        if mapping.is_image:
            return lambda msg: self._checked_image(decode(msg), key.shape, mapping)
        return lambda msg: self._checked_vector(decode(msg), key.shape)

    @staticmethod
    def _checked_vector(values: np.ndarray, shape: tuple) -> np.ndarray:
        if values.size != math.prod(shape):
            raise ObservationError(f'got {values.size} values, the model expects shape {shape}')
        # The model computes in float32: a finite float64 beyond its range becomes Inf there.
        too_large = np.flatnonzero(np.abs(values) > FLOAT32_MAX)
        if too_large.size:
            raise ObservationError(f'values {values[too_large].tolist()} at {too_large.tolist()} '
                                   'are beyond float32 range (the model computes in float32)')
        return values.reshape(shape)

    @staticmethod
    def _checked_image(image: np.ndarray, shape: tuple, mapping: InputMapping) -> np.ndarray:
        if image.shape == shape:
            return image
        if mapping.resize:
            return resize_rgb(image, shape[0], shape[1])
        raise ObservationError(f'image is {image.shape[1]}x{image.shape[0]}, the model expects '
                               f'{shape[1]}x{shape[0]} (set obs.{mapping.key}.resize to resize)')


def age_summary(ages: Mapping[str, TopicAge]) -> Dict[str, float]:
    """Return {topic: the larger of its two ages}: what staleness is judged by."""
    return {t: max(a.arrival_age_s, a.stamp_age_s or 0.0) for t, a in ages.items()}
