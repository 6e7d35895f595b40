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

"""Choosing the torch device: the GPU when present and asked for, the CPU otherwise."""

import logging

from darp_ros.core.errors import ConfigError
import torch

logger = logging.getLogger(__name__)
DEVICES = ('auto', 'cpu', 'cuda')


def resolve_device(device: str) -> str:
    """Map 'auto' | 'cpu' | 'cuda' to a usable torch device name; 'cuda' without a GPU fails."""
    if device not in DEVICES:
        raise ConfigError(f'device must be one of {DEVICES}, got {device!r}')
    has_gpu = torch.cuda.is_available()
    if device == 'cuda' and not has_gpu:
        raise ConfigError('device cuda was asked for but torch sees no CUDA GPU')
    if device == 'auto':
        device = 'cuda' if has_gpu else 'cpu'
        if not has_gpu:
            logger.info('no CUDA GPU found: running on the CPU')
    return device
