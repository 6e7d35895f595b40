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
Bags written here with `rosbags` (sqlite3 and mcap), read back and replayed tick by tick.

Joint states come at 1 kHz with jitter beside 20 Hz camera images (raw rgb8 and bgr8, and
PNG), as on a robot; replay must hand the node's cache the newest message before each tick.
"""

from pathlib import Path

import cv2
from darp_ros.bags.reader import BagReader
from darp_ros.bags.replay import replay_observations
from darp_ros.control.node_config import node_config
from darp_ros.core.errors import DatasetError
from darp_ros.core.spec import ObservationSpec
import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores

STORE = get_typestore(Stores.ROS2_JAZZY)
TYPES = STORE.types
JOINTS = ('j1', 'j2')
SPEC = ObservationSpec.from_shapes({'q': (2,), 'cam': (8, 8, 3)}, ['cam'])


def stamp(t: float):
    """Return a builtin_interfaces/Time of t seconds."""
    return TYPES['builtin_interfaces/msg/Time'](sec=int(t), nanosec=int(round(t % 1 * 1e9)))


def header(t: float):
    """Return a std_msgs/Header stamped t."""
    return TYPES['std_msgs/msg/Header'](stamp=stamp(t), frame_id='')


def pixels(k: int) -> np.ndarray:
    """Return camera frame k: a distinct uint8 RGB picture."""
    image = np.zeros((8, 8, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = k, 2 * k, 255 - k
    return image


def joint_msg(t: float):
    """Return the joint state at time t: position = (t, -t), names reversed."""
    return TYPES['sensor_msgs/msg/JointState'](
        header=header(t), name=['j2', 'j1'], position=np.array([-t, t]),
        velocity=np.array([], float), effort=np.array([], float))


def image_msg(t: float, k: int, encoding: str):
    """Return frame k stamped t as an Image in encoding (rgb8 or bgr8)."""
    data = pixels(k) if encoding == 'rgb8' else pixels(k)[..., ::-1]
    return TYPES['sensor_msgs/msg/Image'](
        header=header(t), height=8, width=8, encoding=encoding, is_bigendian=0, step=24,
        data=np.ascontiguousarray(data).reshape(-1))


def png_msg(t: float, k: int):
    """Return frame k stamped t as a PNG CompressedImage."""
    ok, png = cv2.imencode('.png', pixels(k)[..., ::-1])
    return TYPES['sensor_msgs/msg/CompressedImage'](header=header(t), format='png',
                                                    data=png.reshape(-1))


def write_bag(path: Path, storage, image: str = 'rgb8', seconds: float = 1.0,
              camera_gap=None) -> Path:
    """Write 1 kHz jittered joint states and 20 Hz images; return the bag directory."""
    rng = np.random.default_rng(0)
    image_type = 'sensor_msgs/msg/CompressedImage' if image == 'png' \
        else 'sensor_msgs/msg/Image'
    with Writer(path, version=9, storage_plugin=storage) as writer:
        joints = writer.add_connection('/joint_states', 'sensor_msgs/msg/JointState',
                                       typestore=STORE)
        camera = writer.add_connection('/camera', image_type, typestore=STORE)
        events = []
        for i in range(int(seconds * 1000)):
            t = 10.0 + i * 1e-3 + rng.uniform(0, 2e-4)
            events.append((t, joints, STORE.serialize_cdr(joint_msg(t), joints.msgtype)))
        for k in range(int(seconds * 20)):
            t = 10.0 + k * 0.05
            if camera_gap and camera_gap[0] <= t < camera_gap[1]:
                continue
            msg = png_msg(t, k) if image == 'png' else image_msg(t, k, image)
            events.append((t + 0.002, camera, STORE.serialize_cdr(msg, camera.msgtype)))
        for t, connection, raw in sorted(events, key=lambda e: e[0]):
            writer.write(connection, int(round(t * 1e9)), raw)
    return path


def config(image: str = 'rgb8', max_age: float = 0.1):
    """Return the node config that maps the test bag's topics."""
    return node_config({
        'observation_keys': ['q', 'cam'], 'max_input_age_s': max_age,
        'obs.q.topic': '/joint_states', 'obs.q.type': 'joint_state',
        'obs.q.joints': list(JOINTS),
        'obs.cam.topic': '/camera',
        'obs.cam.type': 'compressed_image' if image == 'png' else 'image'})


@pytest.mark.parametrize('storage', [StoragePlugin.SQLITE3, StoragePlugin.MCAP],
                         ids=['sqlite3', 'mcap'])
@pytest.mark.parametrize('image', ['rgb8', 'bgr8', 'png'])
def test_replay_gives_the_newest_message_before_each_tick(tmp_path, storage, image):
    bag = write_bag(tmp_path / 'bag', storage, image)
    with BagReader(bag) as reader:
        assert reader.topics()['/joint_states'] == 'sensor_msgs/msg/JointState'
        steps = list(replay_observations(reader, config(image), SPEC, rate_hz=20.0))
    assert len(steps) == 21  # ticks from the first message until past the last
    good = [s for s in steps if s.obs is not None]
    assert len(good) >= 19  # the first tick comes before the first image
    for step in good:
        q = step.obs['q']
        assert q[0] == -q[1] and step.time_s - 2e-3 <= q[0] <= step.time_s  # picked by name
        frame = int(round((step.time_s - 10.0 - 0.002) // 0.05))
        np.testing.assert_array_equal(step.obs['cam'], pixels(frame))


def test_a_camera_that_stops_is_reported_stale(tmp_path):
    bag = write_bag(tmp_path / 'bag', StoragePlugin.MCAP, seconds=1.0, camera_gap=(10.3, 10.7))
    with BagReader(bag) as reader:
        steps = list(replay_observations(reader, config(max_age=0.1), SPEC, rate_hz=20.0))
    stale = [s for s in steps if 'camera is stale' in s.fault]
    assert stale and all(10.35 < s.time_s < 10.75 for s in stale)
    assert steps[-1].obs is not None  # and it recovers when frames come back


def test_bad_bags_name_what_is_wrong(tmp_path):
    with pytest.raises(DatasetError, match='is not a rosbag2 recording'):
        BagReader(tmp_path)
    bag = write_bag(tmp_path / 'bag', StoragePlugin.SQLITE3, seconds=0.1)
    with BagReader(bag) as reader:
        with pytest.raises(DatasetError, match=r"no topic \['/missing'\]"):
            list(reader.messages(['/missing']))
    storage = next(bag.glob('*.db3'))
    storage.write_bytes(storage.read_bytes()[:2000])
    with pytest.raises(DatasetError, match=str(bag)):
        with BagReader(bag) as reader:
            list(reader.messages())
