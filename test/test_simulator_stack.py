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
The pinned simulator stack works: robosuite builds a Panda task on this mujoco and steps it.

mujoco releases from 3.10 on break robosuite 1.5.2's joint lookups; this fails on such a pin.
"""

import numpy as np
import pytest

suite = pytest.importorskip('robosuite')


def test_robosuite_lift_builds_and_steps():
    from robosuite.controllers import load_composite_controller_config

    controller = load_composite_controller_config(controller='BASIC', robot='Panda')
    env = suite.make('Lift', robots='Panda', has_renderer=False, has_offscreen_renderer=False,
                     use_camera_obs=False, control_freq=20, horizon=20,
                     controller_configs=controller)
    try:
        env.reset()
        for _ in range(5):
            obs, reward, done, _ = env.step(np.zeros(env.action_dim))
        assert env.action_dim == 7
        assert obs['robot0_joint_pos'].shape == (7,) and obs['cube_pos'].shape == (3,)
        assert np.all(np.isfinite(obs['robot0_eef_pos']))
    finally:
        env.close()
