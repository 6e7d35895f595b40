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
Record topics into a rosbag2 directory (mcap), as `ros2 bag record` would, from inside a graph.

rosbag2_py cannot be installed here, so raw subscriptions hand over the serialized CDR bytes
(what rosbag2 stores) and the pure-Python `rosbags` writer stores them undecoded, under the
fully qualified topic name, with the message definitions of the ROS 2 Jazzy types.

Log time is the receive time on the recording node's ROS clock, as rosbag2 logs it: wall
time on a robot, simulation time when the node uses sim time. Receive means when DDS handed
the message over (its message info), not when the executor got round to the callback: with
a simulated clock the difference matters, because a /clock message taken before a command
that was sent earlier would otherwise log that command in the next step. A lockstep
simulation holds its clock while the policy thinks, so an observation and the command that
answers it arrive at one clock reading; they are logged ORDER_STEP_NS apart in the order
they were received, so the command stays after the observation it answers.

The bag is written under a hidden name next to its destination and moved there when closed:
a run that fails leaves no half-written bag behind.
"""

from collections import deque
import importlib
from pathlib import Path
import shutil
import tempfile
import threading
import time
from typing import Dict, Iterable, Mapping, Optional, Union

from darp_ros.core.errors import DarpError
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from rosgraph_msgs.msg import Clock

STORAGES = ('mcap', 'sqlite3')
DEPTH = 1000    # a recorder must not drop a burst while the executor is busy elsewhere
# Spacing of messages received at one clock reading. Well above the 1 ns rounding of clock
# values (Time(seconds=...) truncates), so a command stays after the tick it answers when the
# replay lays its ticks on the grid of the first stamp; well below bag replay's 1 us tie
# tolerance, so an observation's messages still count as arrived at its tick.
ORDER_STEP_NS = 10
KEPT_READINGS = 64  # clock readings remembered: a message can be received a few steps late


class RecordingError(DarpError):
    """The destination exists, a topic has no known type, or the bag cannot be written."""


def check_destination(path) -> Path:
    """Return path as a Path, or raise RecordingError if something is already there."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise RecordingError(f'{path} exists already: give a new directory for the bag '
                             '(recordings are never overwritten)')
    return path


def message_class(msgtype: str):
    """Return the rclpy message class of a type name such as 'sensor_msgs/msg/JointState'."""
    package, kind, name = (msgtype.split('/') + ['', ''])[:3]
    try:
        return getattr(importlib.import_module(f'{package}.{kind}'), name)
    except (ImportError, AttributeError, ValueError):
        raise RecordingError(f'message type {msgtype!r} is not importable here') from None


class BagRecorder:
    """Raw subscriptions on a node, written to a rosbag2 directory; close() moves it in place."""

    def __init__(self, node: Node, path, storage: str = 'mcap'):
        from rosbags.rosbag2 import StoragePlugin, Writer
        from rosbags.typesys import get_typestore, Stores
        if storage not in STORAGES:
            raise RecordingError(f'storage {storage!r} is not one of {STORAGES}')
        self.node = node
        self.path = check_destination(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._staging = Path(tempfile.mkdtemp(prefix=f'.{self.path.name}.', suffix='.partial',
                                              dir=self.path.parent))
        # Inside the staging directory under its final name: rosbags names the storage file
        # after the bag directory, and metadata.yaml refers to it by that name.
        self._writer = Writer(self._staging / self.path.name, version=9,
                              storage_plugin=StoragePlugin[storage.upper()])
        self._writer.open()
        self._typestore = get_typestore(Stores.ROS2_JAZZY)
        self._lock = threading.Lock()
        self._subscriptions = []
        self._connections = {}
        self._clock_readings = deque(maxlen=KEPT_READINGS)   # (received ns, sim ns)
        self._next_ns: Dict[int, int] = {}   # per clock reading: its next free log time
        self.counts: Dict[str, int] = {}

    # -- subscribing -----------------------------------------------------------------------

    def record(self, topics: Union[Mapping[str, str], Iterable[str]],
               timeout_s: float = 5.0) -> Dict[str, str]:
        """
        Subscribe to topics ({name: type}, or names whose types the graph tells); return them.

        Names are resolved as the node resolves them ('~/x' and relative names included).
        """
        given = dict(topics) if isinstance(topics, Mapping) else dict.fromkeys(topics)
        wanted = {self.node.resolve_topic_name(name): msgtype for name, msgtype in given.items()}
        unknown = [name for name, msgtype in wanted.items() if not msgtype]
        if unknown:
            wanted.update(self._discover_types(unknown, timeout_s))
        if self.node.get_clock().ros_time_is_active and not self._subscriptions:
            # First, so that when a reading and a message wait together it is taken first.
            self._subscriptions.append(self.node.create_subscription(
                Clock, '/clock', self._on_clock, self._qos('/clock')))
        for topic, msgtype in wanted.items():
            self._subscribe(topic, msgtype)
        return wanted

    def _discover_types(self, topics, timeout_s: float) -> Dict[str, str]:
        deadline = time.monotonic() + timeout_s
        while True:
            graph = dict(self.node.get_topic_names_and_types())
            if all(graph.get(t) for t in topics) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        missing = [t for t in topics if not graph.get(t)]
        if missing:
            raise RecordingError(f'no publisher announced a type for {missing} within '
                                 f'{timeout_s:g} s: give the types or start the publishers')
        several = {t: graph[t] for t in topics if len(graph[t]) > 1}
        if several:
            raise RecordingError(f'topics published with more than one type: {several}')
        return {t: graph[t][0] for t in topics}

    def _subscribe(self, topic: str, msgtype: str) -> None:
        if msgtype not in self._typestore.types:
            raise RecordingError(f'{topic}: {msgtype} is not a ROS 2 Jazzy message type, so '
                                 'the bag could not carry its definition')
        msg_class = message_class(msgtype)
        self._connections[topic] = self._writer.add_connection(
            topic, msgtype, typestore=self._typestore)
        self.counts[topic] = 0
        self._subscriptions.append(self.node.create_subscription(
            msg_class, topic, lambda data, info, topic=topic: self._on_message(topic, data, info),
            self._qos(topic), raw=True))

    def _qos(self, topic: str) -> QoSProfile:
        """Return a QoS that every current publisher of topic is compatible with."""
        offered = [info.qos_profile for info in self.node.get_publishers_info_by_topic(topic)]
        best_effort = any(q.reliability == ReliabilityPolicy.BEST_EFFORT for q in offered)
        latched = bool(offered) and all(
            q.durability == DurabilityPolicy.TRANSIENT_LOCAL for q in offered)
        return QoSProfile(
            depth=DEPTH,
            reliability=ReliabilityPolicy.BEST_EFFORT if best_effort
            else ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL if latched
            else DurabilityPolicy.VOLATILE)

    def wait_for_publishers(self, timeout_s: float = 5.0) -> bool:
        """Wait until every subscription is matched with a publisher; return whether all are."""
        deadline = time.monotonic() + timeout_s
        while any(s.get_publisher_count() == 0 for s in self._subscriptions
                  if s.topic_name != '/clock'):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def wait_until_quiet(self, quiet_s: float = 0.2, timeout_s: float = 5.0) -> None:
        """Return once nothing new was recorded for quiet_s: what was sent has come in."""
        deadline = time.monotonic() + timeout_s
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            total = sum(self.counts.values())
            if total != seen:
                seen, since = total, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.02)

    # -- writing ---------------------------------------------------------------------------

    def _on_clock(self, msg: Clock, info: dict) -> None:
        with self._lock:
            self._clock_readings.append((info.get('received_timestamp') or 0,
                                         Time.from_msg(msg.clock).nanoseconds))

    def _clock_at(self, received_ns: int) -> int:
        """Return the ROS time (ns) of the node's clock when DDS received a message."""
        if received_ns:
            if not self.node.get_clock().ros_time_is_active:
                return received_ns
            for received, reading in reversed(self._clock_readings):
                if received <= received_ns:
                    return reading
        return self.node.get_clock().now().nanoseconds

    def _on_message(self, topic: str, data: bytes, info: dict) -> None:
        with self._lock:
            if self._writer is None:
                return  # closing: the subscription is being taken down
            reading = self._clock_at(info.get('received_timestamp') or 0)
            log_ns = self._next_ns.get(reading, reading)
            self._next_ns[reading] = log_ns + ORDER_STEP_NS
            if len(self._next_ns) > KEPT_READINGS:
                del self._next_ns[next(iter(self._next_ns))]
            self._writer.write(self._connections[topic], log_ns, data)
            self.counts[topic] += 1

    def close(self) -> Path:
        """Stop recording, finish the bag and move it to its destination; return that."""
        self._unsubscribe()
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is None:
            raise RecordingError(f'the recording to {self.path} is already closed')
        try:
            writer.close()
            # Checked again: another run may have taken the name while this one recorded.
            check_destination(self.path)
            (self._staging / self.path.name).rename(self.path)
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
        return self.path

    def abort(self) -> None:
        """Stop and delete what was written (nothing to do after close); leave path alone."""
        self._unsubscribe()
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: B902 - the bag is deleted anyway; keep the first error
                pass
        shutil.rmtree(self._staging, ignore_errors=True)

    def _unsubscribe(self) -> None:
        for subscription in self._subscriptions:
            self.node.destroy_subscription(subscription)
        self._subscriptions = []

    def __enter__(self) -> 'BagRecorder':
        """Return self."""
        return self

    def __exit__(self, exc_type, *exc) -> Optional[bool]:
        """Move the bag in place after success; delete it after an error."""
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return None
