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


"""Open-loop evaluation on a bag recorded from a known policy gives back its commands."""

from darp_ros.bags.evaluation import evaluate_bag
from darp_ros.core.bundle import save_bundle
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.core.training import TrainConfig
from darp_ros.data.synthetic import make_episodes
import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from test_bags import header, image_msg, STORE, TYPES

PARAMS = {
    'observation_keys': ['pos', 'camera'], 'max_input_age_s': 0.2,
    'obs.pos.topic': '/joint_states', 'obs.pos.type': 'joint_state',
    'obs.pos.joints': ['x', 'y'],
    'obs.camera.topic': '/camera', 'obs.camera.type': 'image',
    'command.type': 'array', 'command.topic': '/command',
    'limits.lower': [-0.5, -0.5], 'limits.upper': [0.5, 0.5],
}


def test_a_policys_own_bag_is_reproduced_and_clipping_is_counted(tmp_path):
    episodes = make_episodes(count=4, length=20, seed=0, image_size=8)
    options = TrainOptions('bc', ('pos', 'camera'), random_encoder=True, image_size=8,
                           device='cpu', train=TrainConfig(epochs=2, progress=False))
    model = tmp_path / 'model'
    save_bundle(train_model(episodes, options), model)
    runtime = PolicyRuntime.load(model, 'cpu')
    bag = tmp_path / 'bag'
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        joints = writer.add_connection('/joint_states', 'sensor_msgs/msg/JointState',
                                       typestore=STORE)
        camera = writer.add_connection('/camera', 'sensor_msgs/msg/Image', typestore=STORE)
        command = writer.add_connection('/command', 'std_msgs/msg/Float64MultiArray',
                                        typestore=STORE)
        episode = episodes[0]
        for k in range(20):
            t = 5.0 + 0.05 * k
            pos, frame = episode.obs['pos'][k], episode.obs['camera'][k]
            msg = TYPES['sensor_msgs/msg/JointState'](
                header=header(t), name=['y', 'x'], position=np.array([pos[1], pos[0]], float),
                velocity=np.array([], float), effort=np.array([], float))
            # Inputs land 1 ms before their tick, the command 10 ms after: no float ties.
            writer.write(joints, int((t - 1e-3) * 1e9), STORE.serialize_cdr(msg, joints.msgtype))
            image = image_msg(t, 0, 'rgb8')
            image.data = frame.reshape(-1)
            writer.write(camera, int((t - 1e-3) * 1e9),
                         STORE.serialize_cdr(image, camera.msgtype))
            action = runtime.act({'pos': pos, 'camera': frame}).astype(float)
            sent = TYPES['std_msgs/msg/Float64MultiArray'](
                layout=TYPES['std_msgs/msg/MultiArrayLayout'](dim=[], data_offset=0),
                data=action)
            raw = STORE.serialize_cdr(sent, command.msgtype)
            writer.write(command, int((t + 0.01) * 1e9), raw)
    report = evaluate_bag(str(model), str(bag), PARAMS, command_topic='/command', rate_hz=20.0)
    figures = report.to_dict()
    assert figures['acted_steps'] >= 19 and figures['fault_fraction'] <= 0.05
    # The bag holds the policy's raw actions: the model's own commands give them back.
    assert figures['comparison_before_safety']['steps'] >= 19
    assert max(figures['comparison_before_safety']['max_error']) < 1e-5
    actions = np.array([c for c in report.requested if c is not None])
    published = np.array([c for c in report.commands if c is not None])
    np.testing.assert_allclose(published, np.clip(actions, -0.5, 0.5))
    assert figures['clipped_steps'] == int((np.abs(actions) > 0.5).any(axis=1).sum()) > 0
    assert figures['clipped_per_element'] == (np.abs(actions) > 0.5).sum(axis=0).tolist()
    # With element 1 driving the gripper, its clipping to range is no safety intervention.
    gripper = {**PARAMS, 'gripper.enabled': True, 'gripper.action_index': 1,
               'command.action_indices': [0, 1]}
    figures = evaluate_bag(str(model), str(bag), gripper, command_topic='/command',
                           rate_hz=20.0).to_dict()
    assert figures['gripper_element'] == 1
    assert figures['clipped_steps'] == int((np.abs(actions[:, 0]) > 0.5).sum())
    assert figures['novelty']['median'] is not None and figures['latency']['steps'] >= 19
