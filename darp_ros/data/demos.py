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

"""In-memory demonstrations: episodes of observations and actions, validated on construction."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional, Sequence

from darp_ros.core.errors import DatasetError
import numpy as np

_EXTRA_FIELDS = ('rewards', 'dones', 'states')


def is_image_key_shape(shape, dtype) -> bool:
    """Return True when a per-sample shape and dtype describe an RGB image (H, W, 3) uint8."""
    shape = tuple(shape)
    return len(shape) == 3 and shape[-1] == 3 and np.dtype(dtype) == np.uint8


def _is_numeric(dtype: np.dtype) -> bool:
    return np.issubdtype(dtype, np.number) or dtype == np.bool_


def _check_finite(name: str, key: str, arr: np.ndarray) -> None:
    if not np.issubdtype(arr.dtype, np.inexact):
        return
    # Reduce per sample so the message can point at the first bad time step.
    good = np.isfinite(arr).all(axis=tuple(range(1, arr.ndim)))
    if not good.all():
        index = int(np.argmin(good))
        raise DatasetError(
            f"demo '{name}', key '{key}': NaN or Inf at sample {index} "
            f'(expected finite values)')


@dataclass(frozen=True, eq=False)
class Episode:
    """One demonstration: per-key observation arrays and actions, all of length T."""

    name: str
    obs: Mapping[str, np.ndarray]
    actions: np.ndarray
    rewards: Optional[np.ndarray] = None
    dones: Optional[np.ndarray] = None
    states: Optional[np.ndarray] = None

    def __post_init__(self):
        """Coerce observations, actions and extras to numpy arrays."""
        # Only coerce to arrays here; validate_episode reports problems with demo and key names.
        object.__setattr__(self, 'obs', {str(k): np.asarray(v) for k, v in self.obs.items()})
        object.__setattr__(self, 'actions', np.asarray(self.actions))
        for name in _EXTRA_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, np.asarray(value))

    def __len__(self) -> int:
        """Return the number of samples T (rows of actions)."""
        return int(self.actions.shape[0]) if self.actions.ndim >= 1 else 0


def validate_episode(episode: Episode, obs_keys: Sequence[str]) -> None:
    """Raise DatasetError naming the demo and key if the episode is unusable for obs_keys."""
    name = episode.name
    actions = episode.actions
    if actions.ndim != 2:
        raise DatasetError(
            f"demo '{name}', key 'actions': expected a 2-D (T, A) array, found shape "
            f'{actions.shape}')
    if not _is_numeric(actions.dtype):
        raise DatasetError(
            f"demo '{name}', key 'actions': expected a numeric dtype, found {actions.dtype}")
    length = actions.shape[0]
    if length == 0:
        raise DatasetError(f"demo '{name}', key 'actions': empty demo (0 samples)")
    if actions.shape[1] == 0:
        raise DatasetError(f"demo '{name}', key 'actions': action dimension is 0")
    _check_finite(name, 'actions', actions)
    for key in obs_keys:
        if key not in episode.obs:
            raise DatasetError(
                f"demo '{name}', key '{key}': missing observation key; available keys: "
                f'{sorted(episode.obs)}')
        arr = episode.obs[key]
        count = arr.shape[0] if arr.ndim >= 1 else 0
        if count != length:
            raise DatasetError(
                f"demo '{name}', key '{key}': length mismatch, {count} samples in '{key}' "
                f"but {length} in 'actions'")
        if not _is_numeric(arr.dtype):
            raise DatasetError(
                f"demo '{name}', key '{key}': expected a numeric dtype, found {arr.dtype}")
        if arr.ndim == 4 and arr.shape[-1] == 3 and arr.dtype != np.uint8:
            raise DatasetError(
                f"demo '{name}', key '{key}': image-like shape {arr.shape} must be uint8, "
                f'found {arr.dtype}')
        _check_finite(name, key, arr)
    for key in _EXTRA_FIELDS:
        arr = getattr(episode, key)
        if arr is None:
            continue
        count = arr.shape[0] if arr.ndim >= 1 else 0
        if count != length:
            raise DatasetError(
                f"demo '{name}', key '{key}': length mismatch, {count} samples in '{key}' "
                f"but {length} in 'actions'")


@dataclass(frozen=True)
class DemoDataset:
    """Episodes that share observation keys, per-sample shapes and action dimension."""

    episodes: tuple[Episode, ...]
    env_args: dict
    obs_keys: tuple[str, ...]

    def __post_init__(self):
        """Validate every episode and the consistency of shapes across episodes."""
        if isinstance(self.obs_keys, str):
            raise DatasetError(
                f'obs_keys must be a sequence of key names, found the string {self.obs_keys!r}')
        episodes, obs_keys = tuple(self.episodes), tuple(self.obs_keys)
        if not obs_keys:
            raise DatasetError('obs_keys is empty; expected at least one observation key')
        if len(set(obs_keys)) != len(obs_keys):
            raise DatasetError(f'obs_keys has duplicates: {list(obs_keys)}')
        if not episodes:
            raise DatasetError('dataset has no episodes; expected at least one demo')
        if not isinstance(self.env_args, Mapping):
            raise DatasetError(f'env_args must be a mapping, found {type(self.env_args).__name__}')
        for ep in episodes:
            if not isinstance(ep, Episode):
                raise DatasetError(f'expected Episode objects, found {type(ep).__name__}')
            validate_episode(ep, obs_keys)
        object.__setattr__(self, 'episodes', episodes)
        object.__setattr__(self, 'obs_keys', obs_keys)
        object.__setattr__(self, 'env_args', dict(self.env_args))
        self._check_consistent()

    def _check_consistent(self) -> None:
        first = self.episodes[0]
        for ep in self.episodes[1:]:
            if ep.actions.shape[1] != first.actions.shape[1]:
                raise DatasetError(
                    f"demo '{ep.name}', key 'actions': action dim {ep.actions.shape[1]} differs "
                    f"from {first.actions.shape[1]} in demo '{first.name}'")
            for key in self.obs_keys:
                ref, arr = first.obs[key], ep.obs[key]
                if arr.shape[1:] != ref.shape[1:]:
                    raise DatasetError(
                        f"demo '{ep.name}', key '{key}': per-sample shape {arr.shape[1:]} "
                        f"differs from {ref.shape[1:]} in demo '{first.name}'")
                if is_image_key_shape(arr.shape[1:], arr.dtype) != is_image_key_shape(
                        ref.shape[1:], ref.dtype):
                    raise DatasetError(
                        f"demo '{ep.name}', key '{key}': dtype {arr.dtype} differs from "
                        f"{ref.dtype} in demo '{first.name}'")

    @property
    def action_dim(self) -> int:
        """Return the action dimension A."""
        return int(self.episodes[0].actions.shape[1])

    @property
    def num_samples(self) -> int:
        """Return the total number of samples over all episodes."""
        return sum(len(ep) for ep in self.episodes)

    def __len__(self) -> int:
        """Return the number of episodes."""
        return len(self.episodes)

    def key_shapes(self) -> dict[str, tuple[int, ...]]:
        """Return the per-sample shape of each observation key."""
        first = self.episodes[0]
        return {key: tuple(int(d) for d in first.obs[key].shape[1:]) for key in self.obs_keys}

    def image_keys(self) -> tuple[str, ...]:
        """Return the observation keys holding (H, W, 3) uint8 images, in obs_keys order."""
        first = self.episodes[0]
        return tuple(
            key for key in self.obs_keys
            if is_image_key_shape(first.obs[key].shape[1:], first.obs[key].dtype))
