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
Turn robosuite observations into dataset observations, the same way everywhere.

Images are flipped upright (robosuite renders bottom-up, OpenGL-style) so that datasets,
the ROS bridge and real cameras all carry images the same way up.
"""

from typing import Dict, Mapping, Sequence

import numpy as np

# Aggregates robosuite builds from the individual keys; 'object-state' is kept under
# robomimic's name 'object', the proprio aggregate is dropped as redundant.
_SKIPPED = frozenset({'robot0_proprio-state'})
_RENAMED = {'object-state': 'object'}


def upright(image: np.ndarray) -> np.ndarray:
    """Return a robosuite render (bottom row first) the right way up, as uint8."""
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[::-1])


def image_key(camera: str) -> str:
    """Return the observation key of a camera's RGB image."""
    return f'{camera}_image'


def dataset_obs(raw: Mapping[str, np.ndarray], cameras: Sequence[str]) -> Dict[str, np.ndarray]:
    """Return the dataset/policy observation for one robosuite observation."""
    images = {image_key(c) for c in cameras}
    obs = {}
    for key, value in raw.items():
        if key in _SKIPPED or key.endswith('_image') or key.endswith('_depth'):
            continue
        obs[_RENAMED.get(key, key)] = np.asarray(value, dtype=np.float64)
    for key in images:
        obs[key] = upright(raw[key])
    return obs
