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
Reading rosbag2 recordings (sqlite3 or mcap) with the pure-Python `rosbags` package.

Messages are decoded with the definitions stored in the bag where it has them and with the
standard ROS 2 Jazzy types otherwise, into objects with the same field names as rclpy's,
so the node's decoders (image_messages, field_messages) read them unchanged.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional

from darp_ros.core.errors import DatasetError


@dataclass(frozen=True)
class BagMessage:
    """One message: its topic, its index on that topic, when it was logged, and itself."""

    topic: str
    index: int
    log_time_s: float
    msg: object


class BagReader:
    """A rosbag2 directory opened for reading; errors name the bag, topic and message."""

    def __init__(self, path):
        from rosbags.rosbag2 import Reader, ReaderError
        from rosbags.typesys import get_typestore, Stores
        self.path = Path(path)
        if not (self.path / 'metadata.yaml').is_file():
            raise DatasetError(f'{self.path} is not a rosbag2 recording (no metadata.yaml)')
        self._reader = Reader(self.path)
        try:
            self._reader.open()
        except (ReaderError, OSError, ValueError, KeyError) as exc:
            raise DatasetError(f'{self.path}: cannot open the bag ({exc})') from None
        self.typestore = get_typestore(Stores.ROS2_JAZZY)
        self._register_bag_types()

    def _register_bag_types(self) -> None:
        from rosbags.typesys import get_types_from_msg, TypesysError
        for connection in self._reader.connections:
            definition = getattr(connection, 'msgdef', None)
            data = getattr(definition, 'data', '')
            if connection.msgtype in self.typestore.types or not data:
                continue
            try:
                self.typestore.register(get_types_from_msg(data, connection.msgtype))
            except (TypesysError, ValueError) as exc:
                raise DatasetError(f'{self.path}: topic {connection.topic}: cannot read the '
                                   f'stored definition of {connection.msgtype} ({exc})') from None

    def topics(self) -> Dict[str, str]:
        """Return {topic: message type} of every topic in the bag."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    def duration_s(self) -> float:
        """Return the time from the first message to the last, by log time."""
        return self._reader.duration * 1e-9 if self._reader.message_count else 0.0

    def resolve(self, topic: str) -> Optional[str]:
        """
        Return the bag's name for topic, or None when the bag does not have it.

        Configs name topics relative to the node's namespace ('sim/action'), recorders
        store absolute names ('/sim/action'); a node in the root namespace means the same.
        """
        names = self.topics()
        if topic in names:
            return topic
        absolute = '/' + topic.lstrip('/')
        return absolute if absolute in names else None

    def has(self, topic: str) -> bool:
        """Return whether the bag records topic (by its relative or absolute name)."""
        return self.resolve(topic) is not None

    def messages(self, topics: Optional[Iterable[str]] = None) -> Iterator[BagMessage]:
        """
        Yield the messages of topics (all when None) in the order they were logged.

        Each message carries the topic name it was asked for, as the config spells it.
        """
        from rosbags.rosbag2 import ReaderError
        wanted = set(self.topics()) if topics is None else set(topics)
        missing = sorted(t for t in wanted if not self.has(t))
        if missing:
            raise DatasetError(f'{self.path}: no topic {missing} in the bag; it has '
                               f'{sorted(self.topics())}')
        asked = {self.resolve(t): t for t in wanted}
        unknown = sorted({f'{c.topic} ({c.msgtype})' for c in self._reader.connections
                          if c.topic in asked and c.msgtype not in self.typestore.types})
        if unknown:
            raise DatasetError(f'{self.path}: unknown message types without stored '
                               f'definitions: {unknown}')
        connections = [c for c in self._reader.connections if c.topic in asked]
        counts: Dict[str, int] = {}
        iterator = self._reader.messages(connections=connections)
        while True:
            try:
                connection, timestamp, raw = next(iterator)
            except StopIteration:
                return
            except (ReaderError, OSError, ValueError, KeyError) as exc:
                raise DatasetError(f'{self.path}: the storage is unreadable after '
                                   f'{sum(counts.values())} messages ({exc})') from None
            index = counts.get(connection.topic, 0)
            counts[connection.topic] = index + 1
            try:
                msg = self.typestore.deserialize_cdr(raw, connection.msgtype)
            except Exception as exc:  # noqa: B902 - rosbags raises many kinds on bad bytes
                raise DatasetError(f'{self.path}: topic {connection.topic} message {index}: '
                                   f'cannot decode {connection.msgtype} ({exc})') from None
            yield BagMessage(asked[connection.topic], index, timestamp * 1e-9, msg)

    def close(self) -> None:
        """Close the storage files."""
        self._reader.close()

    def __enter__(self) -> 'BagReader':
        """Return self."""
        return self

    def __exit__(self, *exc) -> None:
        """Close the bag."""
        self.close()
