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


"""The bundle the ROS tests share: trained once per session, on the harness's episodes."""

from darp_ros.core.bundle import save_bundle
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.training import TrainConfig
import pytest
from ros_harness import episodes, IMAGE


@pytest.fixture(scope='session')
def joint_bundle(tmp_path_factory):
    """Train a DARP bundle over joint_pos (7,) + camera (32x32); actions 7 deltas + gripper."""
    # k=16 without history: the node tests compare single steps with a fresh runtime object,
    # which a history of the node's past inputs would change (test_policy_node_safety covers
    # ~/reset, which clears that history).
    options = TrainOptions('darp', ('joint_pos', 'camera'),
                           {'k': 16, 'history_len': 1, 'history_keep_ratio': 1.0},
                           random_encoder=True,
                           image_size=IMAGE, device='cpu',
                           train=TrainConfig(epochs=3, progress=False, keep='last'))
    env_args = {'env_name': 'Test', 'type': 0, 'env_kwargs': {'control_freq': 20}}
    model = train_model(episodes(), options, env_args)
    return save_bundle(model, tmp_path_factory.mktemp('bundle') / 'joint_darp')
