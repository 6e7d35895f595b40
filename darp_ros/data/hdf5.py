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

"""Read demonstrations in the robomimic HDF5 layout (data/demo_N/{actions,obs/...})."""

import contextlib
from dataclasses import dataclass
import json
import logging
import os
import re
from typing import Optional, Sequence

from darp_ros.core.errors import DatasetError
from darp_ros.data.demos import DemoDataset, Episode, validate_episode
import h5py
import numpy as np

_LOG = logging.getLogger(__name__)
DEMO_NAME = re.compile(r'^demo_(\d+)$')
# robomimic's EnvType.ROBOSUITE_TYPE, for raw robosuite files that have no env_args.
_ROBOSUITE_ENV_TYPE = 1


def _text(value) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode('utf-8')
    return str(value)


def _short(names: Sequence[str], limit: int = 10) -> str:
    more = f' ... ({len(names)} in all)' if len(names) > limit else ''
    return ', '.join(list(names)[:limit]) + more if names else 'none'


@contextlib.contextmanager
def _open(path: str):
    if not os.path.isfile(path):
        raise DatasetError(f'{path}: no such file')
    if not h5py.is_hdf5(path):
        raise DatasetError(f'{path}: not an HDF5 file')
    try:
        handle = h5py.File(path, 'r')
    except OSError as exc:
        raise DatasetError(f'{path}: cannot open as HDF5 ({exc})') from exc
    with handle:
        yield handle


@contextlib.contextmanager
def errors_with_path(path: str):
    """Prefix darp errors with the file path and turn h5py failures into DatasetError."""
    try:
        yield
    except DatasetError as exc:
        if str(exc).startswith(f'{path}: '):
            raise
        raise DatasetError(f'{path}: {exc}') from exc
    except (OSError, KeyError) as exc:
        raise DatasetError(f'{path}: HDF5 read/write failed ({exc})') from exc


def _data_group(handle: h5py.File) -> h5py.Group:
    data = handle.get('data')
    if not isinstance(data, h5py.Group):
        raise DatasetError(f"no 'data' group; top-level entries: {_short(sorted(handle))}")
    return data


def _env_args(data: h5py.Group) -> dict:
    raw, env = data.attrs.get('env_args'), data.attrs.get('env')
    try:
        if raw is not None:
            value = json.loads(_text(raw))
        elif env is not None:
            info = data.attrs.get('env_info')
            value = {'env_name': _text(env), 'type': _ROBOSUITE_ENV_TYPE,
                     'env_kwargs': json.loads(_text(info)) if info is not None else {}}
        else:
            value = {}
    except ValueError as exc:
        raise DatasetError(f"attribute 'data/env_args' is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise DatasetError(f"attribute 'data/env_args' must be a JSON object, found {value!r}")
    return value


def _demo_names(data: h5py.Group) -> list:
    names = [n for n in data if DEMO_NAME.match(n) and data.get(n, getclass=True) is h5py.Group]
    if not names:
        raise DatasetError(f"no demos (demo_N groups) in 'data'; found: {_short(sorted(data))}")
    return sorted(names, key=lambda n: int(DEMO_NAME.match(n).group(1)))


def _select(handle, available, demos, filter_key) -> list:
    if demos is not None and filter_key is not None:
        raise DatasetError('pass either demos or filter_key, not both')
    if filter_key is not None:
        mask = handle.get('mask')
        keys = sorted(mask) if isinstance(mask, h5py.Group) else []
        if filter_key not in keys:
            raise DatasetError(f"filter key '{filter_key}' not found; filter keys: {_short(keys)}")
        wanted = [_text(n) for n in np.asarray(mask[filter_key][()]).ravel()]
        source = f"filter key '{filter_key}'"
    elif demos is not None:
        if isinstance(demos, str):
            raise DatasetError(f'demos must be a sequence of demo names, found {demos!r}')
        wanted, source = [str(n) for n in demos], 'demos argument'
    else:
        return available
    known = set(available)
    missing = [n for n in wanted if n not in known]
    if missing:
        raise DatasetError(
            f'{source} asks for demos not in the file: {_short(missing)}; '
            f'demos in file: {_short(available)}')
    if not wanted:
        raise DatasetError(f'{source} selects no demos')
    chosen = set(wanted)
    return [n for n in available if n in chosen]


def _load(grp: h5py.Group, name: str, key: str, path: str) -> np.ndarray:
    ds = grp.get(path)
    if not isinstance(ds, h5py.Dataset):
        raise DatasetError(f"demo '{name}', key '{key}': '{path}' is not a dataset")
    try:
        arr = ds[()]
    except OSError as exc:
        raise DatasetError(f"demo '{name}', key '{key}': cannot read data ({exc})") from exc
    # Image-like arrays keep their dtype so validation can report a non-uint8 image as stored.
    if arr.ndim == 4 and arr.shape[-1] == 3:
        return arr
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DatasetError(f"demo '{name}', key '{key}': expected numbers, found {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def _read_episode(grp: h5py.Group, name: str, obs_keys: Sequence[str]) -> Episode:
    if 'actions' not in grp:
        raise DatasetError(
            f"demo '{name}', key 'actions': dataset missing; demo has: {_short(sorted(grp))}")
    obs_grp = grp.get('obs')
    available = sorted(obs_grp) if isinstance(obs_grp, h5py.Group) else []
    obs = {}
    for key in obs_keys:
        if key not in available:
            raise DatasetError(
                f"demo '{name}', key '{key}': missing observation key; available keys: "
                f'{available}')
        obs[key] = _load(obs_grp, name, key, key)
    extras = {k: grp[k][()] for k in ('rewards', 'dones', 'states') if k in grp}
    episode = Episode(name, obs, _load(grp, name, 'actions', 'actions'), **extras)
    expected = grp.attrs.get('num_samples')
    if expected is not None and int(expected) != len(episode):
        raise DatasetError(
            f"demo '{name}', key 'actions': attribute num_samples={int(expected)} but "
            f"'actions' has {len(episode)} samples")
    validate_episode(episode, obs_keys)
    return episode


def read_env_args(path) -> dict:
    """Return the env_args a demonstration file records ({} when it records none)."""
    path = os.fspath(path)
    with errors_with_path(path):
        with _open(path) as handle:
            return _env_args(_data_group(handle))


def read_demos(path, obs_keys: Sequence[str], *, demos: Optional[Sequence[str]] = None,
               filter_key: Optional[str] = None) -> DemoDataset:
    """Read demos (all, the named ones, or a mask filter key) in numeric demo_N order."""
    path = os.fspath(path)
    with errors_with_path(path):
        if isinstance(obs_keys, str) or not obs_keys:
            raise DatasetError(
                f'obs_keys must be a non-empty sequence of key names, found {obs_keys!r}')
        obs_keys = tuple(obs_keys)
        with _open(path) as handle:
            data = _data_group(handle)
            env_args = _env_args(data)
            available = _demo_names(data)
            names = _select(handle, available, demos, filter_key)
            episodes = tuple(_read_episode(data[n], n, obs_keys) for n in names)
            total = data.attrs.get('total')
        dataset = DemoDataset(episodes, env_args, obs_keys)
        if names == available and total is not None and int(total) != dataset.num_samples:
            _LOG.warning('%s: data/total=%d but demos hold %d samples', path, int(total),
                         dataset.num_samples)
        return dataset


@dataclass(frozen=True)
class DatasetSummary:
    """Shapes and counts of a demo file, read from metadata only."""

    path: str
    num_demos: int
    num_samples: int
    action_dim: int
    env_name: Optional[str]
    obs: dict[str, tuple[tuple[int, ...], str]]


def inspect_demos(path) -> DatasetSummary:
    """Summarize a demo file from dataset shapes and attributes without loading arrays."""
    path = os.fspath(path)
    with errors_with_path(path), _open(path) as handle:
        data = _data_group(handle)
        env_name = _env_args(data).get('env_name')
        names = _demo_names(data)
        num_samples, dims = 0, set()
        for name in names:
            actions = data[name].get('actions')
            if not isinstance(actions, h5py.Dataset) or actions.ndim != 2:
                raise DatasetError(f"demo '{name}', key 'actions': missing or not a 2-D dataset")
            num_samples += int(actions.shape[0])
            dims.add(int(actions.shape[1]))
        if len(dims) > 1:
            raise DatasetError(f"key 'actions': action dims differ across demos: {sorted(dims)}")
        obs_grp = data[names[0]].get('obs')
        obs = {}
        if isinstance(obs_grp, h5py.Group):
            for key, ds in obs_grp.items():
                if isinstance(ds, h5py.Dataset):
                    obs[key] = (tuple(int(d) for d in ds.shape[1:]), ds.dtype.name)
        return DatasetSummary(path, len(names), num_samples, dims.pop(),
                              None if env_name is None else str(env_name), obs)
