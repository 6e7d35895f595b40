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
Recording the sim closed loop into a rosbag2 (mcap) that bag-eval reads back.

`darp sim --record` runs one short lockstep episode of the shipped Lift bundle; the bag must
hold every step's inputs and command with sim-time log times, and the open-loop evaluation
of the same bundle on it must give back the commands the loop sent. The recorder alone is
checked on a plain node: types found in the graph, a bag moved in place only when closed.
"""

import contextlib
import io
from pathlib import Path

from darp_ros.bags.evaluation import evaluate_bag
from darp_ros.bags.reader import BagReader
from darp_ros.control.node_parameters import read_parameter_file
import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from ros_harness import wait_for
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / 'models' / 'lift_darp'
HORIZON = 25
INPUTS = {'/sim/eef_pose': 'geometry_msgs/msg/PoseStamped',
          '/sim/joint_states': 'sensor_msgs/msg/JointState',
          '/sim/object_state': 'sensor_msgs/msg/JointState'}
TOPICS = {**INPUTS, '/sim/action': 'std_msgs/msg/Float64MultiArray',
          '/sim/episode': 'diagnostic_msgs/msg/DiagnosticStatus',
          '/policy_node/action': 'std_msgs/msg/Float64MultiArray',
          '/policy_node/novelty': 'std_msgs/msg/Float64'}


@pytest.fixture(scope='module')
def recorded(tmp_path_factory):
    """Return (bag path, what darp sim printed, its directory) after one recorded episode."""
    from darp_ros.cli.main import main
    out = tmp_path_factory.mktemp('recording')
    bag = out / 'loop'
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(['sim', '--model', str(MODEL), '--episodes', '1', '--seed', '100000',
                       '--horizon', str(HORIZON), '--record', str(bag)])
    assert status == 0
    return bag, printed.getvalue(), out


def test_the_bag_holds_every_step_of_the_loop_in_sim_time(recorded):
    bag, printed, out = recorded
    assert f'recorded the loop into {bag}' in printed
    assert sorted(p.name for p in out.iterdir()) == ['loop']  # no staging directory left
    assert (bag / 'metadata.yaml').is_file() and (bag / 'loop.mcap').is_file()
    with BagReader(bag) as reader:
        assert reader.topics() == TOPICS
        messages = list(reader.messages())
    counts = {t: sum(m.topic == t for m in messages) for t in TOPICS}
    # The last observation of an episode is not published, so every observation is answered.
    assert counts == {**dict.fromkeys(TOPICS, HORIZON), '/sim/episode': 1}
    for message in messages:
        if message.topic in INPUTS:
            stamp = message.msg.header.stamp.sec + message.msg.header.stamp.nanosec * 1e-9
            # Logged on the sim clock at the reading that stamped it (1 ns rounding).
            assert 0.0 <= message.log_time_s - stamp + 1e-9 < 1e-6
    for topic in TOPICS:
        times = [m.log_time_s for m in messages if m.topic == topic]
        assert times == sorted(times)


def test_bag_eval_gives_back_the_commands_the_loop_sent(recorded):
    bag, _, _ = recorded
    # The node's own config, with its relative names; the bag holds absolute ones.
    params = read_parameter_file(ROOT / 'config' / 'sim.yaml')
    report = evaluate_bag(str(MODEL), str(bag), params, command_topic='sim/action')
    figures = report.to_dict()
    assert figures['faults'] == {} and figures['acted_steps'] == HORIZON
    assert figures['comparison']['steps'] == HORIZON  # every tick paired with its own command
    # What the node would publish (after the safety layer of config/sim.yaml) is what it sent.
    assert max(figures['comparison']['max_error']) < 1e-6
    # Before the layer, the model asks for more than the limits on some elements.
    asked = np.array(report.requested)
    lower, upper = params['limits.lower'], params['limits.upper']
    assert ((asked < lower) | (asked > upper)).any() and figures['clipped_steps'] > 0


def test_the_recording_converts_to_training_data_with_the_sent_commands(recorded, tmp_path):
    from darp_ros.cli.main import main
    from darp_ros.data.hdf5 import read_demos, read_env_args
    bag, _, _ = recorded
    out = tmp_path / 'loop.hdf5'
    assert main(['bag2hdf5', '--bag', str(bag), '--config', str(ROOT / 'config' / 'sim.yaml'),
                 '--out', str(out), '--episode-split', 'sim/episode',
                 '--env-from', str(MODEL)]) == 0
    with BagReader(bag) as reader:
        sent = [m.msg.data for m in reader.messages(['/sim/action'])]
    episodes = read_demos(out, ['robot0_eef_pos', 'object']).episodes
    assert [len(e) for e in episodes] == [HORIZON]  # every step of the one episode
    np.testing.assert_allclose(episodes[0].actions, sent, atol=1e-6)
    env_args = read_env_args(out)
    assert env_args['env_name'] == 'Lift' and env_args['env_kwargs']['control_freq'] == 20


def test_an_existing_destination_is_refused_before_anything_runs(tmp_path, capsys):
    from darp_ros.cli.main import main
    from darp_ros.ros.bag_recorder import RecordingError
    from darp_ros.ros.sim_runner import run_sim
    taken = tmp_path / 'taken'
    taken.mkdir()
    (taken / 'keep.txt').write_text('mine')
    with pytest.raises(RecordingError, match='exists already'):
        run_sim(str(MODEL), 1, 100000, horizon=2, record=str(taken))
    assert main(['sim', '--model', str(MODEL), '--episodes', '1', '--horizon', '2',
                 '--record', str(taken)]) == 2
    assert 'exists already' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['taken']
    assert (taken / 'keep.txt').read_text() == 'mine'


def spin_until(executor, done, timeout_s: float = 5.0) -> bool:
    """Spin executor until done() holds; return whether it did."""
    return wait_for(lambda: executor.spin_once(timeout_sec=0.01) or done(), timeout_s)


def test_the_recorder_finds_types_and_moves_the_bag_in_place_only_when_closed(tmp_path):
    from darp_ros.ros.bag_recorder import BagRecorder
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('recorder_probe', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        novelty = node.create_publisher(Float64, 'probe/novelty', 10)
        joints = node.create_publisher(JointState, '/probe/joints', 10)
        recorder = BagRecorder(node, tmp_path / 'good')
        assert recorder.record(['probe/novelty', '/probe/joints']) == {
            '/probe/novelty': 'std_msgs/msg/Float64',
            '/probe/joints': 'sensor_msgs/msg/JointState'}
        assert recorder.wait_for_publishers()
        for k in range(3):
            novelty.publish(Float64(data=float(k)))
            joints.publish(JointState(name=['a'], position=[float(k)]))
        assert spin_until(executor, lambda: sum(recorder.counts.values()) == 6)
        assert not (tmp_path / 'good').exists()  # still being written elsewhere
        assert recorder.close() == tmp_path / 'good'
        with BagReader(tmp_path / 'good') as reader:
            values = [m.msg.data for m in reader.messages(['/probe/novelty'])]
            times = [m.log_time_s for m in reader.messages()]
        assert values == [0.0, 1.0, 2.0]
        assert times == sorted(times) and len(set(times)) == 6  # wall clock, distinct
        failing = BagRecorder(node, tmp_path / 'failed')
        failing.record({'probe/novelty': 'std_msgs/msg/Float64'})
        with pytest.raises(RuntimeError, match='the run failed'):
            with failing:
                raise RuntimeError('the run failed')
        assert sorted(p.name for p in tmp_path.iterdir()) == ['good']
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
