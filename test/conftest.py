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

"""Shared fixtures: tiny synthetic demonstrations as real robomimic HDF5 files; logging."""

import logging

from darp_ros.data.hdf5_writer import write_demos
from darp_ros.data.synthetic import ENV_ARGS, make_episodes
import pytest


@pytest.fixture(scope='session')
def small_episodes():
    """Eight short episodes with a 2-D position and a 3-D nuisance key."""
    return make_episodes(count=8, length=20, seed=0, extra_dims=3)


@pytest.fixture
def small_hdf5(tmp_path, small_episodes):
    """small_episodes written in the robomimic layout."""
    path = tmp_path / 'demos.hdf5'
    write_demos(path, small_episodes, ENV_ARGS)
    return path


@pytest.fixture
def restore_darp_logging():
    """Undo `darp` main()'s logging setup, so later tests see the logger as they left it."""
    logger = logging.getLogger('darp_ros')
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers
