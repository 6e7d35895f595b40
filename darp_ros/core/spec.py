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

"""One observation spec and one action spec, shared by dataset, policy, simulator and node."""

from dataclasses import dataclass
import math
from typing import Any, Mapping, Optional

from darp_ros.core.errors import ConfigError, ObservationError
import numpy as np

OBS_KINDS = ('low_dim', 'rgb')
# Every camera goes through the ResNet-18 trunk, whose pooled output has this width.
IMAGE_FEATURES = 512


@dataclass(frozen=True)
class ObsKeySpec:
    """One observation key: its name, per-sample shape and kind ('low_dim' or 'rgb')."""

    name: str
    shape: tuple
    kind: str

    def __post_init__(self):
        object.__setattr__(self, 'shape', tuple(int(s) for s in self.shape))
        if self.kind not in OBS_KINDS:
            raise ConfigError(f'observation key {self.name!r}: kind must be one of {OBS_KINDS}, '
                              f'got {self.kind!r}')
        if self.kind == 'rgb' and (len(self.shape) != 3 or self.shape[2] != 3):
            raise ConfigError(f'image key {self.name!r} must have shape (H, W, 3), '
                              f'got {self.shape}')
        if any(s <= 0 for s in self.shape):
            raise ConfigError(f'observation key {self.name!r} has an empty shape {self.shape}')

    @property
    def feature_dim(self) -> int:
        """Width of this key inside the feature vector."""
        return IMAGE_FEATURES if self.kind == 'rgb' else math.prod(self.shape)

    def to_dict(self) -> dict:
        """Return a JSON-able dict."""
        return {'name': self.name, 'shape': list(self.shape), 'kind': self.kind}


@dataclass(frozen=True)
class ObservationSpec:
    """The ordered observation keys a policy consumes; features concatenate in this order."""

    keys: tuple

    def __post_init__(self):
        object.__setattr__(self, 'keys', tuple(self.keys))
        if not self.keys:
            raise ConfigError('an observation spec needs at least one key')
        names = [k.name for k in self.keys]
        if len(set(names)) != len(names):
            raise ConfigError(f'observation keys repeat: {names}')

    @classmethod
    def from_shapes(cls, shapes: Mapping[str, tuple], image_keys=()) -> 'ObservationSpec':
        """Build a spec from per-sample shapes; keys in image_keys are cameras."""
        return cls(tuple(ObsKeySpec(name, tuple(shape), 'rgb' if name in image_keys else 'low_dim')
                         for name, shape in shapes.items()))

    @property
    def names(self) -> tuple:
        """Key names in feature order."""
        return tuple(k.name for k in self.keys)

    @property
    def image_keys(self) -> tuple:
        """Names of the camera keys."""
        return tuple(k.name for k in self.keys if k.kind == 'rgb')

    @property
    def feature_dim(self) -> int:
        """Width of the concatenated feature vector."""
        return sum(k.feature_dim for k in self.keys)

    def validate(self, obs: Mapping[str, Any], batched: bool = False) -> None:
        """Raise ObservationError naming the key if obs does not match this spec."""
        if not isinstance(obs, Mapping):
            raise ObservationError('observation must be a dict of arrays, got '
                                   f'{type(obs).__name__}')
        for spec in self.keys:
            if spec.name not in obs:
                raise ObservationError(f'observation is missing key {spec.name!r} '
                                       f'(expected {list(self.names)}, got {sorted(obs)})')
            value = np.asarray(obs[spec.name])
            shape = value.shape[1:] if batched else value.shape
            if spec.kind == 'low_dim' and math.prod(shape) == math.prod(spec.shape):
                shape = spec.shape  # a (7,) joint vector may arrive as (1, 7) or (7, 1)
            if tuple(shape) != spec.shape:
                raise ObservationError(f'observation key {spec.name!r}: expected shape '
                                       f'{spec.shape}, got {tuple(shape)}')
            if spec.kind == 'rgb':
                if value.dtype != np.uint8:
                    raise ObservationError(f'image key {spec.name!r}: expected uint8 RGB, '
                                           f'got {value.dtype}')
            elif not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
                raise ObservationError(f'observation key {spec.name!r} holds NaN/Inf or '
                                       f'non-numeric values ({value.dtype})')

    def to_dict(self) -> dict:
        """Return a JSON-able dict."""
        return {'keys': [k.to_dict() for k in self.keys]}

    @classmethod
    def from_dict(cls, data: Mapping) -> 'ObservationSpec':
        """Inverse of to_dict."""
        try:
            return cls(tuple(ObsKeySpec(k['name'], tuple(k['shape']), k['kind'])
                             for k in data['keys']))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f'malformed observation spec {data!r}: {exc}') from None


@dataclass(frozen=True)
class ActionSpec:
    """The action vector: its width and the range seen in the demonstrations."""

    dim: int
    low: Optional[tuple] = None
    high: Optional[tuple] = None

    def __post_init__(self):
        if int(self.dim) < 1:
            raise ConfigError(f'action dim must be >= 1, got {self.dim}')
        for name in ('low', 'high'):
            value = getattr(self, name)
            if value is not None:
                value = tuple(float(v) for v in value)
                if len(value) != self.dim:
                    raise ConfigError(f'action {name} has {len(value)} entries, '
                                      f'expected {self.dim}')
                object.__setattr__(self, name, value)

    def to_dict(self) -> dict:
        """Return a JSON-able dict."""
        return {'dim': int(self.dim),
                'low': None if self.low is None else list(self.low),
                'high': None if self.high is None else list(self.high)}

    @classmethod
    def from_dict(cls, data: Mapping) -> 'ActionSpec':
        """Inverse of to_dict."""
        try:
            return cls(int(data['dim']), data.get('low'), data.get('high'))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f'malformed action spec {data!r}: {exc}') from None
