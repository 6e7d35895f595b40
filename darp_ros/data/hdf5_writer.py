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

"""Write demonstrations in the robomimic HDF5 layout, all or nothing (a temporary file renamed)."""

import contextlib
import json
import os
from typing import Mapping, Optional, Sequence
import uuid

from darp_ros.core.errors import ConfigError, DatasetError
from darp_ros.data.demos import DemoDataset, Episode, is_image_key_shape
from darp_ros.data.hdf5 import DEMO_NAME, errors_with_path
import h5py
import numpy as np


def _output_names(episodes: Sequence[Episode]) -> list:
    idx = [int(m.group(1)) if (m := DEMO_NAME.match(ep.name)) else None for ep in episodes]
    # Keep names only when reading back (numeric order) reproduces the given order.
    keep = all(i is not None and ep.name == f'demo_{i}' for i, ep in zip(idx, episodes))
    if keep and all(a < b for a, b in zip(idx, idx[1:])):
        return [ep.name for ep in episodes]
    return [f'demo_{i}' for i in range(len(episodes))]


def _put(grp: h5py.Group, name: str, arr: np.ndarray, compression: Optional[str]) -> None:
    kwargs = {'compression': compression} if compression else {}
    if arr.ndim == 4 and is_image_key_shape(arr.shape[1:], arr.dtype):
        kwargs['chunks'] = (1,) + arr.shape[1:]
    grp.create_dataset(name, data=arr, **kwargs)


def write_demos(path, episodes: Sequence[Episode], env_args: Mapping, *,
                overwrite: bool = False, compression: Optional[str] = 'gzip') -> None:
    """Validate episodes and write them as data/demo_N groups in the robomimic layout."""
    if compression not in (None, 'gzip', 'lzf'):
        raise ConfigError(f"compression must be None, 'gzip' or 'lzf', found {compression!r}")
    path = os.fspath(path)
    with errors_with_path(path):
        episodes = tuple(episodes)
        if not episodes:
            raise DatasetError('no episodes to write')
        if not all(isinstance(ep, Episode) for ep in episodes):
            raise DatasetError('expected a sequence of Episode objects')
        first = episodes[0]
        keys = tuple(first.obs)
        for ep in episodes[1:]:
            if set(ep.obs) != set(keys):
                raise DatasetError(
                    f"demo '{ep.name}' has obs keys {sorted(ep.obs)} but demo '{first.name}' "
                    f'has {sorted(keys)}')
        bad = [k for k in keys if '/' in k]
        if bad:
            raise DatasetError(f"demo '{first.name}', key '{bad[0]}': key names cannot hold '/'")
        dataset = DemoDataset(episodes, env_args, keys)
        try:
            env_json = json.dumps(dataset.env_args)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f'env_args is not JSON-serializable ({exc})') from exc
        if os.path.isdir(path) or (os.path.exists(path) and not overwrite):
            raise DatasetError('file exists; pass overwrite=True to replace it')
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        # Write beside the target and rename, so a failure never leaves a half-written file.
        tmp = os.path.join(parent, f'.{os.path.basename(path)}.{uuid.uuid4().hex}.part')
        try:
            with h5py.File(tmp, 'w-') as handle:
                data = handle.create_group('data')
                for name, ep in zip(_output_names(episodes), episodes):
                    grp = data.create_group(name)
                    grp.attrs['num_samples'] = len(ep)
                    _put(grp, 'actions', ep.actions, compression)
                    for key in keys:
                        _put(grp, f'obs/{key}', ep.obs[key], compression)
                    for key in ('rewards', 'dones', 'states'):
                        if getattr(ep, key) is not None:
                            _put(grp, key, getattr(ep, key), compression)
                data.attrs['total'] = dataset.num_samples
                data.attrs['env_args'] = env_json
            os.replace(tmp, path)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f'writing failed, nothing written ({exc})') from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
