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
Build robosuite environments from robomimic-style env_args, and seed them per episode.

env_args is the one description of an environment: collect writes it into the dataset,
training copies it into the bundle, and eval and the ROS bridge rebuild from it.
"""

import copy
from typing import Mapping, Optional, Sequence

from darp_ros.core.errors import ConfigError
from darp_ros.sim.tasks import CAMERAS, task_spec
import numpy as np

ROBOSUITE_ENV_TYPE = 1      # robomimic's EnvType.ROBOSUITE_TYPE
CONTROL_FREQ_HZ = 20
BUILD_SEED = 0              # seeds the model build (object sizes); episodes reseed after


def controller_config(robot: str = 'Panda') -> dict:
    """Return robosuite's OSC_POSE arm controller config, reduced to the parts the arm has."""
    from robosuite.controllers import load_composite_controller_config
    config = load_composite_controller_config(controller='BASIC', robot=robot)
    # The BASIC config lists torso, head, base and legs too; a Panda has only 'right',
    # and robosuite warns about every missing part at every reset unless they go.
    config['body_parts'] = {'right': config['body_parts']['right']}
    return config


def make_env_args(task: str, cameras: Sequence[str] = (), image_size: int = 84,
                  robot: str = 'Panda', control_freq: int = CONTROL_FREQ_HZ) -> dict:
    """Return env_args (robomimic layout) for task with the given cameras."""
    task_spec(task)
    unknown = [c for c in cameras if c not in CAMERAS]
    if unknown:
        raise ConfigError(f'unknown camera {unknown[0]!r}; known cameras: {", ".join(CAMERAS)}')
    if cameras and not 8 <= image_size <= 1024:
        raise ConfigError(f'image size must be in [8, 1024], found {image_size}')
    import robosuite
    cameras = list(cameras)
    return {
        'env_name': task,
        'type': ROBOSUITE_ENV_TYPE,
        'env_version': robosuite.__version__,
        'env_kwargs': {
            'robots': [robot],
            'controller_configs': controller_config(robot),
            'control_freq': control_freq,
            'has_renderer': False,
            'has_offscreen_renderer': bool(cameras),
            'use_camera_obs': bool(cameras),
            'camera_names': cameras or ['agentview'],
            'camera_heights': image_size,
            'camera_widths': image_size,
            'use_object_obs': True,
            'reward_shaping': False,
            'ignore_done': True,
        },
    }


def camera_names(env_args: Mapping) -> Sequence[str]:
    """Return the cameras env_args renders observations from (empty for low-dim)."""
    kwargs = env_args.get('env_kwargs', {})
    return list(kwargs.get('camera_names', [])) if kwargs.get('use_camera_obs') else []


def build_env(env_args: Mapping, *, offscreen: bool = False, placement_scale: float = 1.0):
    """
    Create the robosuite environment env_args describes.

    offscreen adds a renderer for videos; placement_scale widens (> 1) the range the
    objects' initial positions are drawn from, for distribution-shift evaluation.
    """
    if not isinstance(env_args, Mapping) or 'env_name' not in env_args:
        raise ConfigError('env_args has no env_name: the dataset or bundle does not record '
                          'which environment it came from')
    if env_args.get('type', ROBOSUITE_ENV_TYPE) != ROBOSUITE_ENV_TYPE:
        raise ConfigError(f"env_args type {env_args.get('type')!r} is not a robosuite "
                          f'environment ({ROBOSUITE_ENV_TYPE})')
    task_spec(env_args['env_name'])
    kwargs = copy.deepcopy(dict(env_args.get('env_kwargs', {})))
    if offscreen:
        kwargs['has_offscreen_renderer'] = True
    # A soft reset keeps the loaded model, so a widened placement range survives resets
    # (a hard reset rebuilds some tasks' samplers), and resets are ~10x faster.
    kwargs.setdefault('hard_reset', False)
    # Models draw their objects' sizes from env.rng while they are built (Lift's cube:
    # 20-22 mm); unseeded, two builds differed by up to 1 mm in cube height and the same
    # episode seed gave different episodes in different processes.
    kwargs.setdefault('seed', BUILD_SEED)
    import robosuite
    env = robosuite.make(env_args['env_name'], **kwargs)
    if placement_scale != 1.0:
        try:
            widen_placement(env, placement_scale)
        except ConfigError:
            env.close()     # refused after the build: release the simulator it holds
            raise
    return env


def _samplers(env):
    initializer = env.placement_initializer
    return list(getattr(initializer, 'samplers', {}).values()) or [initializer]


def widen_placement(env, scale: float) -> None:
    """Scale the x/y ranges of every object sampler about their centres (fixed ones stay)."""
    if not scale > 0:
        raise ConfigError(f'placement scale must be positive, found {scale}')
    for sampler in _samplers(env):
        for name in ('x_range', 'y_range'):
            low, high = getattr(sampler, name)
            centre, half = (low + high) / 2, (high - low) / 2
            setattr(sampler, name, [centre - scale * half, centre + scale * half])


def reseed(env, seed: Optional[int]) -> None:
    """
    Make the next reset() depend on seed only, whatever the environment did before.

    robosuite draws the robot's initial-joint noise and the object placement from
    env.rng, which its samplers hold a reference to; both are replaced.
    """
    rng = np.random.default_rng(seed)
    env.rng = rng
    for sampler in _samplers(env):
        sampler.rng = rng
    env.placement_initializer.rng = rng


def reset_with_seed(env, seed: int) -> dict:
    """Reset env to the initial state of episode seed and return the observation."""
    reseed(env, seed)
    return env.reset()
