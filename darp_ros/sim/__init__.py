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

"""Simulation: robosuite environments, scripted experts and closed-loop rollouts."""

import logging
import os


def _drop_robosuite_advice(record: logging.LogRecord) -> bool:
    # robosuite logs setup advice (private macro file, optional robot models, IK) at
    # import and a notice per controller part at every reset; errors still pass.
    return record.levelno >= logging.ERROR


# Installed before any robosuite import: its logger is configured while importing.
logging.getLogger('robosuite_logs').addFilter(_drop_robosuite_advice)


def _default_renderer() -> str:
    # MuJoCo picks its OpenGL backend once, at import: EGL on an NVIDIA machine,
    # OSMesa (software, slow but always there) otherwise. A user's choice wins.
    return 'egl' if os.path.exists('/dev/nvidia0') else 'osmesa'


os.environ.setdefault('MUJOCO_GL', _default_renderer())
os.environ.setdefault('PYOPENGL_PLATFORM', os.environ['MUJOCO_GL'])

# torch pulls in triton, which bundles LLVM; MuJoCo's OSMesa renderer bundles another.
# Whichever loads second segfaults if it is triton, so torch (through the runtime the
# policies use) is loaded before anything here can load MuJoCo.
import darp_ros.core.runtime  # noqa: E402,F401,I100,I202
