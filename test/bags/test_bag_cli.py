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
`darp bag2hdf5` and `darp bag-eval` on bags written here with the standard Jazzy types.

The round trip a user makes: teleoperated recordings -> training file -> model -> offline
evaluation on a recording. 1-NN replay makes it exact: evaluated on its own recording, the
model must give back every recorded command.
"""

import json

import cv2
from darp_ros.bags.reader import BagReader
from darp_ros.cli.main import main
from darp_ros.data.hdf5 import read_demos
import h5py
import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from test_bags import header, image_msg, pixels, STORE, TYPES

RATE = 20.0
CONFIG = """\
/**:
  ros__parameters:
    control_rate_hz: 20.0
    max_input_age_s: 0.1
    observation_keys: [q, cam]
    obs:
      # A relative name, as in the shipped configs, for the bag's /joint_states.
      q: {topic: joint_states, type: joint_state, joints: [j1, j2]}
      cam: {topic: /camera, type: %s}
    command:
      type: array
      topic: /teleop/command
    limits:
      lower: [-0.5, -0.5]
      upper: [0.5, 0.5]
"""

pytestmark = pytest.mark.usefixtures('restore_darp_logging')


def joints_at(t: float) -> np.ndarray:
    """Return the operator's arm at time t: a smooth, never repeating path."""
    return np.array([np.sin(t), np.cos(0.7 * t)])


def command_at(t: float) -> np.ndarray:
    """Return what the operator commanded at t: distinct at every tick, partly past limits."""
    return np.array([0.8 * np.sin(2 * t), 0.3 * np.cos(t)])


def float_array(values):
    """Return a std_msgs/Float64MultiArray holding values."""
    return TYPES['std_msgs/msg/Float64MultiArray'](
        layout=TYPES['std_msgs/msg/MultiArrayLayout'](dim=[], data_offset=0),
        data=np.asarray(values, float))


def compressed(t: float, k: int, fmt: str = 'png'):
    """Return frame k stamped t, compressed as fmt."""
    ok, data = cv2.imencode(f'.{fmt}', pixels(k)[..., ::-1])
    return TYPES['sensor_msgs/msg/CompressedImage'](header=header(t), format=fmt,
                                                    data=data.reshape(-1))


def teleop_bag(path, storage=StoragePlugin.MCAP, image='rgb8', episodes=(10.0, 13.0),
               seconds=1.5, marker=True):
    """
    Write a teleoperation recording; return (path, [(tick, command)] per episode).

    Per episode: 500 Hz jittered joints, 20 Hz camera and 20 Hz commands logged 5 ms after
    the frame they answer; a /episode_end marker after each episode, nothing in between.
    """
    rng = np.random.default_rng(1)
    image_type = 'sensor_msgs/msg/Image' if image in ('rgb8', 'bgr8') \
        else 'sensor_msgs/msg/CompressedImage'
    events, answers = [], []
    with Writer(path, version=9, storage_plugin=storage) as writer:
        joints = writer.add_connection('/joint_states', 'sensor_msgs/msg/JointState',
                                       typestore=STORE)
        camera = writer.add_connection('/camera', image_type, typestore=STORE)
        command = writer.add_connection('/teleop/command', 'std_msgs/msg/Float64MultiArray',
                                        typestore=STORE)
        end = writer.add_connection('/episode_end', 'std_msgs/msg/Empty', typestore=STORE)
        for start in episodes:
            # Joints start one tick early, unjittered, so replay ticks fall 1 ms after the
            # camera frames: ticks from the first message, as the node's timer would be.
            first = start - 1 / RATE - 1e-3
            for i in range(int(seconds * 500) + 25):
                t = first + i * 2e-3 + (rng.uniform(0, 2e-4) if i else 0.0)
                msg = TYPES['sensor_msgs/msg/JointState'](
                    header=header(t), name=['j2', 'j1'], position=joints_at(t)[::-1].copy(),
                    velocity=np.array([], float), effort=np.array([], float))
                events.append((t, joints, msg))
            ticks = []
            for k in range(int(seconds * RATE)):
                t = start + k / RATE
                frame = image_msg(t, k, image) if image_type.endswith('/Image') \
                    else compressed(t, k, image)
                events.append((t - 1e-3, camera, frame))
                events.append((t + 4e-3, command, float_array(command_at(t))))
                ticks.append((t, command_at(t)))
            answers.append(ticks)
            if marker:
                events.append((start + seconds, end, TYPES['std_msgs/msg/Empty']()))
        for t, connection, msg in sorted(events, key=lambda e: e[0]):
            writer.write(connection, int(round(t * 1e9)),
                         STORE.serialize_cdr(msg, connection.msgtype))
    return path, answers


def config_file(tmp_path, image='image'):
    """Write the node parameters that map the teleop bag; return the path."""
    path = tmp_path / f'teleop_{image}.yaml'
    path.write_text(CONFIG % image)
    return path


@pytest.mark.parametrize('split', ['/episode_end', '0.5'], ids=['marker-topic', 'gap'])
def test_teleop_bag_to_hdf5_to_model_to_offline_eval(tmp_path, capsys, split):
    bag, answers = teleop_bag(tmp_path / 'teleop')
    config, out = config_file(tmp_path), tmp_path / 'teleop.hdf5'
    assert main(['bag2hdf5', '--bag', str(bag), '--config', str(config), '--out', str(out),
                 '--episode-split', split, '--json', str(tmp_path / 'c.json')]) == 0
    summary = json.loads((tmp_path / 'c.json').read_text())
    assert [e['steps'] for e in summary['episodes']] == [30, 30]
    data = read_demos(out, ['q', 'cam'])
    assert [len(e) for e in data.episodes] == [30, 30]
    for episode, ticks in zip(data.episodes, answers):
        # The action is the command that answered the tick; the observation is the newest
        # joint state before the tick and the frame stamped at it.
        np.testing.assert_allclose(episode.actions, [c for _, c in ticks], rtol=1e-6)
        for k, (t, _) in enumerate(ticks):
            np.testing.assert_allclose(episode.obs['q'][k], joints_at(t), atol=5e-3)
            np.testing.assert_array_equal(episode.obs['cam'][k], pixels(k))
    with h5py.File(out) as handle:
        env_args = json.loads(handle['data'].attrs['env_args'])
    assert env_args['env_kwargs']['control_freq'] == RATE

    model = tmp_path / 'model'
    assert main(['train', '--policy', 'nn1', '--dataset', str(out), '--obs-keys', 'q,cam',
                 '--out', str(model), '--random-encoder', '--image-size', '32',
                 '--no-progress', '--device', 'cpu']) == 0
    report = tmp_path / 'report'
    assert main(['bag-eval', '--model', str(model), '--bag', str(bag), '--config', str(config),
                 '--report', str(report), '--no-progress', '--episode-split', split]) == 0
    figures = json.loads((report / 'report.json').read_text())
    assert figures['command_topic'] == '/teleop/command'  # the config's, found in the bag
    assert figures['episodes'] == 2      # the policy started anew at the split
    # Before the safety layer the model gives back every recorded command ...
    comparison = figures['comparison_before_safety']
    assert comparison['steps'] == 60 and max(comparison['max_error']) < 1e-6
    assert min(comparison['correlation']) > 0.999999
    # ... and what it would have published differs exactly where the operator went past
    # the +-0.5 limit on element 0.
    recorded = np.array([c for t in answers for _, c in t])
    published = figures['comparison']
    np.testing.assert_allclose(published['max_error'],
                               [np.abs(recorded[:, 0]).max() - 0.5, 0.0], atol=1e-6)
    for name in ('commands.png', 'novelty.png'):
        image = cv2.imread(str(report / name))
        assert image is not None and image.shape[0] > 300 and image.std() > 0
    rows = [r.split(',') for r in (report / 'steps.csv').read_text().splitlines()]
    assert rows[0][:4] == ['time_s', 'novelty', 'input_age_s', 'command_0']
    assert len(rows) == 1 + figures['steps']
    # The operator went past the +-0.5 limit on element 0: the node would have clipped.
    asked = rows[0].index('before_safety_0')
    assert figures['clipped_steps'] == sum(r[asked] != '' and abs(float(r[asked])) > 0.5
                                           for r in rows[1:]) > 0
    assert figures['novelty']['median'] < 1e-3  # the recorded states are the demonstrations
    # Between the episodes nothing was recorded: those ticks are stale, not acted on.
    assert 0.2 < figures['stale_fraction'] < figures['fault_fraction'] < 0.4
    assert 'MAE per element' in capsys.readouterr().out


@pytest.mark.parametrize('storage', [StoragePlugin.SQLITE3, StoragePlugin.MCAP],
                         ids=['sqlite3', 'mcap'])
@pytest.mark.parametrize('image', ['bgr8', 'png', 'jpeg'])
def test_camera_encodings_convert_to_rgb(tmp_path, storage, image):
    bag, _ = teleop_bag(tmp_path / 'bag', storage, image, episodes=(10.0,), seconds=0.5)
    config = config_file(tmp_path, 'image' if image == 'bgr8' else 'compressed_image')
    out = tmp_path / 'out.hdf5'
    assert main(['bag2hdf5', '--bag', str(bag), '--config', str(config),
                 '--out', str(out)]) == 0
    frames = read_demos(out, ['cam']).episodes[0].obs['cam']
    assert frames.shape == (10, 8, 8, 3) and frames.dtype == np.uint8
    tolerance = 40 if image == 'jpeg' else 0  # lossy, and an 8x8 picture is all edges
    for k, frame in enumerate(frames):
        assert np.abs(frame.astype(int) - pixels(k)).max() <= tolerance


def test_several_bags_make_one_file(tmp_path):
    first, _ = teleop_bag(tmp_path / 'a', episodes=(10.0,), seconds=0.5)
    second, _ = teleop_bag(tmp_path / 'b', episodes=(50.0,), seconds=0.5, marker=False)
    out = tmp_path / 'out.hdf5'
    assert main(['bag2hdf5', '--bag', str(first), '--bag', str(second),
                 '--config', str(config_file(tmp_path)), '--out', str(out)]) == 0
    assert [len(e) for e in read_demos(out, ['q']).episodes] == [10, 10]


def bad(capsys, *argv):
    """Run darp with argv; check it failed as a user error; return its one error line."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def no_output_left(tmp_path):
    """Return whether no training file, not even a partial one, was written."""
    return not list(tmp_path.glob('*.hdf5*')) and not list(tmp_path.glob('.*.part'))


def test_not_a_bag(tmp_path, capsys):
    message = bad(capsys, 'bag2hdf5', '--bag', str(tmp_path), '--config',
                  str(config_file(tmp_path)), '--out', str(tmp_path / 'o.hdf5'))
    assert f'{tmp_path} is not a rosbag2 recording' in message and no_output_left(tmp_path)


def test_truncated_storage(tmp_path, capsys):
    bag, _ = teleop_bag(tmp_path / 'bag', StoragePlugin.SQLITE3, episodes=(10.0,))
    storage = next(bag.glob('*.db3'))
    storage.write_bytes(storage.read_bytes()[:30000])
    message = bad(capsys, 'bag2hdf5', '--bag', str(bag), '--config',
                  str(config_file(tmp_path)), '--out', str(tmp_path / 'o.hdf5'))
    assert str(bag) in message and no_output_left(tmp_path)


def test_missing_mapped_topic(tmp_path, capsys):
    bag, _ = teleop_bag(tmp_path / 'bag', episodes=(10.0,), seconds=0.5)
    config = tmp_path / 'other.yaml'
    config.write_text((CONFIG % 'image').replace('/camera', '/wrist/image'))
    message = bad(capsys, 'bag2hdf5', '--bag', str(bag), '--config', str(config),
                  '--out', str(tmp_path / 'o.hdf5'))
    assert str(bag) in message and "no topic ['/wrist/image']" in message
    assert no_output_left(tmp_path)


def test_missing_command_topic(tmp_path, capsys):
    bag, _ = teleop_bag(tmp_path / 'bag', episodes=(10.0,), seconds=0.5)
    config = tmp_path / 'other.yaml'
    config.write_text((CONFIG % 'image').replace('/teleop/command', '/cmd'))
    message = bad(capsys, 'bag2hdf5', '--bag', str(bag), '--config', str(config),
                  '--out', str(tmp_path / 'o.hdf5'))
    assert "no topic ['/cmd']" in message and no_output_left(tmp_path)


def test_unknown_type_without_definition(tmp_path, capsys):
    store = get_typestore(Stores.EMPTY)
    store.register(get_types_from_msg('float64[] data', 'lab_msgs/msg/Joints'))
    bag = tmp_path / 'bag'
    with Writer(bag, version=9) as writer:
        # A definition-less connection, as bags from older recorders have.
        joints = writer.add_connection('/joint_states', 'lab_msgs/msg/Joints', msgdef='',
                                       rihs01='RIHS01_' + '0' * 64)
        raw = store.serialize_cdr(store.types['lab_msgs/msg/Joints'](
            data=np.zeros(2)), 'lab_msgs/msg/Joints')
        writer.write(joints, 10**10, raw)
        camera = writer.add_connection('/camera', 'sensor_msgs/msg/Image', typestore=STORE)
        writer.write(camera, 10**10, STORE.serialize_cdr(image_msg(10.0, 0, 'rgb8'),
                                                         camera.msgtype))
    message = bad(capsys, 'bag2hdf5', '--bag', str(bag), '--config',
                  str(config_file(tmp_path)), '--out', str(tmp_path / 'o.hdf5'))
    assert 'unknown message types without stored definitions' in message
    assert '/joint_states (lab_msgs/msg/Joints)' in message and no_output_left(tmp_path)


def test_unsupported_image_encoding_names_bag_topic_and_message(tmp_path, capsys):
    bag = tmp_path / 'bag'
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        camera = writer.add_connection('/camera', 'sensor_msgs/msg/Image', typestore=STORE)
        joints = writer.add_connection('/joint_states', 'sensor_msgs/msg/JointState',
                                       typestore=STORE)
        image = TYPES['sensor_msgs/msg/Image'](
            header=header(10.0), height=8, width=8, encoding='yuv422', is_bigendian=0,
            step=16, data=np.zeros(128, np.uint8))
        writer.write(camera, 10**10, STORE.serialize_cdr(image, camera.msgtype))
        state = TYPES['sensor_msgs/msg/JointState'](
            header=header(10.0), name=['j1', 'j2'], position=np.zeros(2),
            velocity=np.array([], float), effort=np.array([], float))
        writer.write(joints, 10**10, STORE.serialize_cdr(state, joints.msgtype))
    message = bad(capsys, 'bag2hdf5', '--bag', str(bag), '--config',
                  str(config_file(tmp_path)), '--out', str(tmp_path / 'o.hdf5'))
    assert f'{bag}: topic /camera message 0 (cam)' in message and 'yuv422' in message
    assert no_output_left(tmp_path)


def test_existing_outputs_are_kept(tmp_path, capsys):
    bag, _ = teleop_bag(tmp_path / 'bag', episodes=(10.0,), seconds=0.5)
    out = tmp_path / 'out.hdf5'
    out.write_bytes(b'precious')
    message = bad(capsys, 'bag2hdf5', '--bag', str(bag), '--config',
                  str(config_file(tmp_path)), '--out', str(out))
    assert 'exists' in message and out.read_bytes() == b'precious'
    report = tmp_path / 'report'
    report.mkdir()
    message = bad(capsys, 'bag-eval', '--model', str(tmp_path / 'nowhere'), '--bag', str(bag),
                  '--report', str(report))
    assert 'exists' in message and not list(report.iterdir())


def test_bad_episode_split(tmp_path, capsys):
    bag, _ = teleop_bag(tmp_path / 'bag', episodes=(10.0,), seconds=0.5)
    message = bad(capsys, 'bag2hdf5', '--bag', str(bag), '--config',
                  str(config_file(tmp_path)), '--out', str(tmp_path / 'o.hdf5'),
                  '--episode-split', '-1')
    assert 'positive number of seconds' in message


def test_gripper_element_comes_from_the_recorded_width(tmp_path):
    bag, answers = teleop_bag(tmp_path / 'bag', episodes=(10.0,), seconds=1.0)
    gripper_bag = tmp_path / 'with_gripper'
    with Writer(gripper_bag, version=9) as writer, BagReader(bag) as reader:
        connections = {topic: writer.add_connection(topic, msgtype, typestore=STORE)
                       for topic, msgtype in reader.topics().items()}
        width = writer.add_connection('/gripper/width', 'std_msgs/msg/Float64', typestore=STORE)
        # Opened at the start, closed in reply to the tick at 10.5 s.
        events = [(10.0 - 0.06, width, 0.08), (10.5 + 4e-3, width, 0.0)]
        events = [(int(round(t * 1e9)), c, STORE.serialize_cdr(
            TYPES['std_msgs/msg/Float64'](data=w), c.msgtype)) for t, c, w in events]
        events += [(int(round(m.log_time_s * 1e9)), connections[m.topic],
                    STORE.serialize_cdr(m.msg, connections[m.topic].msgtype))
                   for m in reader.messages()]
        for stamp_ns, connection, raw in sorted(events, key=lambda e: e[0]):
            writer.write(connection, stamp_ns, raw)
    config = tmp_path / 'gripper.yaml'
    config.write_text((CONFIG % 'image') + """\
    gripper: {enabled: true, output: width, topic: /gripper/width}
""")
    out = tmp_path / 'out.hdf5'
    assert main(['bag2hdf5', '--bag', str(gripper_bag), '--config', str(config),
                 '--out', str(out)]) == 0
    actions = read_demos(out, ['q']).episodes[0].actions
    ticks = [t for t, _ in answers[0]]
    assert actions.shape == (20, 3)  # the command's two values, then the gripper (-1: last)
    np.testing.assert_allclose(actions[:, :2], [c for _, c in answers[0]], rtol=1e-6)
    np.testing.assert_array_equal(actions[:, 2], [1.0 if t >= 10.5 else -1.0 for t in ticks])
