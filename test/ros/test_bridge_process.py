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


"""The bridge as its own process: it ends after its episodes, and on a signal, cleanly."""

from pathlib import Path
import signal
import subprocess
import sys

import pytest
from ros_harness import Graph, wait_for
from sensor_msgs.msg import JointState

MODEL = Path(__file__).resolve().parents[2] / 'models' / 'lift_darp'


def bridge(*parameters: str) -> subprocess.Popen:
    """Start the bridge executable, realtime (no policy needed), with extra -p settings."""
    args = [sys.executable, '-m', 'darp_ros.ros.robosuite_bridge_node', '--ros-args',
            '-p', f'env_from:={MODEL}', '-p', 'mode:=realtime']
    for parameter in parameters:
        args += ['-p', parameter]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_bridge_ends_after_its_episodes_with_the_summary():
    process = bridge('episodes:=2', 'horizon:=3')
    try:
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert 'robosuite_bridge: 0/2 episodes succeeded (0%), seeds 100000..100001' in out, out
    assert 'Traceback' not in err, err


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_bridge_without_an_error(signum):
    graph = Graph(None)
    heard = []
    graph.probe.create_subscription(JointState, 'sim/joint_states', heard.append, 10)
    process = bridge('episodes:=0')
    try:
        assert wait_for(lambda: len(heard) >= 3, 60.0)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        graph.close()
    assert process.returncode == 0, err
    assert 'Traceback' not in err and 'RCLError' not in err, err
