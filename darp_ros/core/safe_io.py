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

"""Reading and writing tensors and JSON without pickle, with errors that name the file."""

import json
from pathlib import Path
from typing import Dict, Mapping

from darp_ros.core.errors import BundleError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
import torch

# First bytes of formats that execute code when loaded: pickle protocols 2-5, torch.save zips.
_PICKLE_MAGIC = (b'\x80\x02', b'\x80\x03', b'\x80\x04', b'\x80\x05', b'PK\x03\x04')


def read_tensors(path: Path) -> Dict[str, torch.Tensor]:
    """Load a safetensors file; a missing, corrupt or pickle file raises BundleError."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(f'{path} is missing')
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        error = exc
    # Only now look at the first bytes: a valid safetensors header may start with them too.
    with open(path, 'rb') as stream:
        head = stream.read(4)
    if head.startswith(_PICKLE_MAGIC):
        raise BundleError(f'{path} is a pickle/torch.save file, not safetensors: refusing to '
                          'load it, because unpickling can execute arbitrary code')
    raise BundleError(f'{path} is not a valid safetensors file: {error}')


def write_tensors(path: Path, tensors: Mapping[str, torch.Tensor]) -> None:
    """Save tensors as safetensors (contiguous CPU copies)."""
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path))


def read_json(path: Path) -> dict:
    """Load a JSON object; a missing or malformed file raises BundleError."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(f'{path} is missing')
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f'{path} is not valid JSON: {exc}') from None
    if not isinstance(data, dict):
        raise BundleError(f'{path} must hold a JSON object, got {type(data).__name__}')
    return data


def write_json(path: Path, data: Mapping) -> None:
    """Save a JSON object, pretty-printed so bundles diff well."""
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + '\n', encoding='utf-8')


def expect_shape(tensors: Mapping[str, torch.Tensor], key: str, shape: tuple, path: Path):
    """Return tensors[key] if it has shape (None matches any size); else BundleError."""
    if key not in tensors:
        raise BundleError(f'{path} has no tensor {key!r} (found {sorted(tensors)[:8]})')
    found = tuple(tensors[key].shape)
    if len(found) != len(shape) or any(e is not None and e != f for e, f in zip(shape, found)):
        want = tuple('N' if e is None else e for e in shape)
        raise BundleError(f'{path}: tensor {key!r} has shape {found}, expected {want}')
    return tensors[key]
