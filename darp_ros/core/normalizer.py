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

"""Per-dimension z-scoring whose statistics come from the data and travel in the bundle."""

from dataclasses import dataclass

from darp_ros.core.errors import ConfigError
import numpy as np
import torch

# A constant dimension (a gripper that never moved) would divide by ~0; scale it by 1 instead.
MIN_STD = 1e-6


@dataclass(frozen=True)
class Normalizer:
    """z = (x - mean) / std, with std floored so constant dimensions pass through unscaled."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self):
        mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        std = np.asarray(self.std, dtype=np.float32).reshape(-1)
        if mean.shape != std.shape:
            raise ConfigError(f'normalizer mean {mean.shape} and std {std.shape} differ in shape')
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ConfigError('normalizer statistics must be finite with std > 0')
        object.__setattr__(self, 'mean', mean)
        object.__setattr__(self, 'std', std)

    @classmethod
    def fit(cls, x: np.ndarray, scale_floor: float = 0.0) -> 'Normalizer':
        """
        Compute statistics over the rows of x (N, D).

        scale_floor > 0 floors every spread at scale_floor times the median spread of the
        dimensions that vary. A dimension the data barely moves (a resting cube's tilt in
        quaternion x, y: std 0.002 where positions have 0.05) is otherwise divided by that
        tiny spread, and a small deviation in closed loop outweighs every other dimension
        of a distance (measured with `darp diagnose`: |z| of 48 on one such dimension).
        """
        if not (np.isfinite(scale_floor) and scale_floor >= 0):
            raise ConfigError(f'scale_floor must be finite and >= 0, got {scale_floor}')
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ConfigError(f'normalizer needs a non-empty (N, D) array, got shape {x.shape}')
        std = x.std(axis=0)
        varying = std >= MIN_STD
        if scale_floor > 0 and varying.any():
            std = np.where(varying, np.maximum(std, scale_floor * np.median(std[varying])), std)
        std = np.where(std < MIN_STD, 1.0, std)
        return cls(x.mean(axis=0), std)

    @property
    def dim(self) -> int:
        """Return the number of dimensions."""
        return int(self.mean.shape[0])

    def normalize(self, x):
        """Map raw values to z-scores; accepts numpy arrays or torch tensors."""
        mean, std = self._like(x)
        return (x - mean) / std

    def denormalize(self, z):
        """Map z-scores back to raw values."""
        mean, std = self._like(z)
        return z * std + mean

    def _like(self, x):
        if isinstance(x, torch.Tensor):
            return (torch.as_tensor(self.mean, device=x.device, dtype=x.dtype),
                    torch.as_tensor(self.std, device=x.device, dtype=x.dtype))
        return self.mean, self.std

    def tensors(self, prefix: str) -> dict:
        """Tensors for a safetensors file, keyed by prefix."""
        return {f'{prefix}.mean': torch.from_numpy(self.mean.copy()),
                f'{prefix}.std': torch.from_numpy(self.std.copy())}

    @classmethod
    def from_tensors(cls, tensors: dict, prefix: str) -> 'Normalizer':
        """Inverse of tensors()."""
        return cls(tensors[f'{prefix}.mean'].numpy(), tensors[f'{prefix}.std'].numpy())
