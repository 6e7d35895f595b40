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
Image resizing and normalization shared by training, simulation, the ROS node and replay.

This is the only place where camera images become network input, so every caller feeds the
encoder exactly the same pixels for the same image.
"""

from dataclasses import dataclass
import math
from typing import Any, Mapping, Union

from darp_ros.core.errors import ConfigError, EncoderError
import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

ImageArray = Union[np.ndarray, torch.Tensor]


def _triple(name: str, value: Any, positive: bool) -> tuple[float, float, float]:
    """Validate a per-channel triple of finite floats and return it as a tuple."""
    try:
        values = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f'{name} must be 3 numbers (R, G, B), got {value!r}') from None
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise ConfigError(f'{name} must be 3 finite numbers (R, G, B), got {value!r}')
    if positive and min(values) <= 0.0:
        raise ConfigError(f'{name} must be positive, got {value!r}')
    return values


def as_image_batch(images: ImageArray) -> torch.Tensor:
    """Check an RGB uint8 image or batch and return it as a (B, H, W, 3) uint8 tensor."""
    if isinstance(images, np.ndarray):
        if images.dtype != np.uint8:
            raise EncoderError(
                f'expected uint8 RGB, got {images.dtype} array of shape {images.shape}')
        # Copy only views torch cannot wrap (negative strides from BGR flips, read-only buffers).
        tensor = torch.from_numpy(np.require(images, requirements=['C', 'W']))
    elif isinstance(images, torch.Tensor):
        if images.dtype != torch.uint8:
            raise EncoderError(
                f'expected uint8 RGB, got {images.dtype} tensor of shape {tuple(images.shape)}')
        tensor = images
    else:
        raise EncoderError(
            f'expected a uint8 RGB numpy array or torch tensor, got {type(images).__name__}')
    shape = tuple(tensor.shape)
    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 4 or tensor.shape[-1] != 3:
        raise EncoderError(f'expected uint8 RGB of shape (H, W, 3) or (B, H, W, 3), got {shape}')
    if tensor.shape[1] == 0 or tensor.shape[2] == 0:
        raise EncoderError(f'expected a non-empty image, got shape {shape}')
    return tensor


@dataclass(frozen=True)
class ImagePreprocessing:
    """
    Resize to a square of `size` pixels and normalize per channel.

    The aspect ratio is not kept: robot cameras are usually configured to square crops
    already, and a plain resize keeps the whole field of view. Crop non-square images
    before calling this if distortion matters.
    """

    size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        """Validate the size and the channel statistics."""
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)) \
                or self.size < 1:
            raise ConfigError(f'size must be a positive integer, got {self.size!r}')
        object.__setattr__(self, 'size', int(self.size))
        object.__setattr__(self, 'mean', _triple('mean', self.mean, positive=False))
        object.__setattr__(self, 'std', _triple('std', self.std, positive=True))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable dict of the settings."""
        return {'size': self.size, 'mean': list(self.mean), 'std': list(self.std)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> 'ImagePreprocessing':
        """Build from a dict written by to_dict(), rejecting unknown keys."""
        if not isinstance(data, Mapping):
            raise ConfigError(f'image preprocessing must be a mapping, got {type(data).__name__}')
        unknown = sorted(set(data) - {'size', 'mean', 'std'})
        if unknown:
            raise ConfigError(
                f'unknown image preprocessing keys {unknown}; expected size, mean, std')
        return cls(**dict(data))

    def __call__(self, images: ImageArray, device: Union[str, torch.device] = 'cpu'
                 ) -> torch.Tensor:
        """Turn uint8 RGB (H, W, 3) or (B, H, W, 3) into float32 (B, 3, size, size)."""
        batch = as_image_batch(images)
        # Move as uint8 (4x less transfer) and convert on the target device.
        x = batch.to(device).permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
        if x.shape[0] == 0:
            return x.new_zeros((0, 3, self.size, self.size))
        if x.shape[2] != self.size or x.shape[3] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode='bilinear',
                              align_corners=False, antialias=True)
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
        return ((x - mean) / std).contiguous()
