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


"""Where a simulation's env_args come from: a model bundle, a dataset, or a task name."""

from pathlib import Path
from typing import Sequence

from darp_ros.core.bundle import read_manifest
from darp_ros.core.errors import ConfigError
from darp_ros.data.hdf5 import read_env_args
from darp_ros.sim.environment import make_env_args


def env_args_from(source: str = '', task: str = '', cameras: Sequence[str] = (),
                  image_size: int = 84) -> dict:
    """
    Return the env_args a simulation runs.

    They are read from source (a bundle directory or an HDF5 dataset) when one is given,
    else built for task, cameras and image_size.
    """
    if source:
        path = Path(source)
        env_args = read_manifest(path).get('env_args') if path.is_dir() \
            else read_env_args(path)
        if not env_args or not env_args.get('env_name'):
            raise ConfigError(f'{path} records no env_args: give a task instead')
        return dict(env_args)
    if not task:
        raise ConfigError('give a bundle or dataset to take env_args from, or a task name')
    return make_env_args(task, cameras, image_size)
