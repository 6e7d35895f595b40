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


"""The policy node on sensor_msgs/CompressedImage: PNG is exact, JPEG works, corrupt holds."""

from darp_ros.core.runtime import PolicyRuntime
import numpy as np
import pytest
from ros_harness import active_graph, camera_pixels, HOME, jpeg_msg, node_parameters
from sensor_msgs.msg import CompressedImage
from test_policy_node import check_hold_and_recovery, latest_action


@pytest.fixture(scope='module')
def running(joint_bundle):
    """Return (graph, probe) with the node reading PNG frames from a compressed topic."""
    graph, probe = active_graph(node_parameters(joint_bundle, compressed=True), compressed=True)
    yield graph, probe
    graph.close()


def test_png_gives_the_rgb8_action(running, joint_bundle):
    graph, probe = running
    expected = PolicyRuntime.load(joint_bundle, 'cpu').act(
        {'joint_pos': HOME, 'camera': camera_pixels()})
    np.testing.assert_allclose(latest_action(probe), expected, atol=1e-5)


def test_jpeg_is_decoded(running):
    graph, probe = running
    good = probe.image
    probe.image = lambda: jpeg_msg(camera_pixels())
    try:
        assert np.all(np.isfinite(latest_action(probe)))
    finally:
        probe.image = good


def test_corrupt_jpeg_holds_logs_and_recovers(running):
    graph, probe = running
    corrupt = CompressedImage(format='jpeg',
                              data=b'\xff\xd8\xff\xe0' + bytes(range(200)) + b'\xff\xd9')
    check_hold_and_recovery(probe, 'image', lambda: corrupt, 'jpeg')
