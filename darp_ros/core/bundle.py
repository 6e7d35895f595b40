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
The model bundle: one directory, safe formats only, versioned and checked on load.

Layout:
  bundle.json           format, versions, policy name + config, specs, encoder origin, training
  policy.safetensors    the policy's learned tensors
  normalizer.safetensors  state and action z-score statistics
  memory.safetensors    demonstration actions, episode and step of every index row
  index/                the retrieval index (its vectors are the z-scored demonstration states)
  encoder.safetensors   the frozen image trunk, when the policy sees cameras
"""

import logging
from pathlib import Path
import shutil
import tempfile

from darp_ros import __version__
from darp_ros.core.config import config_to_dict
from darp_ros.core.device import resolve_device
from darp_ros.core.encoders import EncoderWeights, ImageEncoder
from darp_ros.core.errors import BundleError, ConfigError, DarpError
from darp_ros.core.image_preprocessing import ImagePreprocessing
from darp_ros.core.index import IndexConfig, RetrievalIndex
from darp_ros.core.memory import DemoMemory
from darp_ros.core.model import TrainedModel
from darp_ros.core.normalizer import Normalizer
from darp_ros.core.policies import build_policy
from darp_ros.core.safe_io import (expect_shape, read_json, read_tensors, write_json,
                                   write_tensors)
from darp_ros.core.spec import ActionSpec, ObservationSpec
import torch

logger = logging.getLogger(__name__)
FORMAT_NAME = 'darp_ros.model_bundle'
FORMAT_VERSION = 1
MANIFEST = 'bundle.json'


def save_bundle(model: TrainedModel, directory, overwrite: bool = False) -> Path:
    """Write the bundle; it appears complete or not at all (written aside, then moved)."""
    target = Path(directory)
    if target.exists() and not overwrite:
        raise BundleError(f'{target} already exists (pass overwrite to replace it)')
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix='.bundle-', dir=target.parent))
    try:
        write_tensors(staging / 'policy.safetensors', model.policy.tensors())
        write_tensors(staging / 'normalizer.safetensors',
                      {**model.state_normalizer.tensors('state'),
                       **model.action_normalizer.tensors('action')})
        memory = model.memory
        write_tensors(staging / 'memory.safetensors', {
            'actions': memory.actions, 'episodes': _long(memory.episodes),
            'steps': _long(memory.steps)})
        memory.index.save(staging / 'index')
        if model.encoder is not None:
            write_tensors(staging / 'encoder.safetensors', model.encoder.state_dict())
        write_json(staging / MANIFEST, manifest(model))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def manifest(model: TrainedModel) -> dict:
    """Return the bundle.json contents."""
    encoder = None
    if model.encoder is not None:
        encoder = {'weights': model.encoder.weights.to_dict(),
                   'preprocessing': model.encoder.preprocessing.to_dict(),
                   'features_per_camera': model.encoder.feature_dim}
    return {
        'format': FORMAT_NAME, 'format_version': FORMAT_VERSION, 'darp_ros_version': __version__,
        'policy': {'name': model.policy.name, 'config': config_to_dict(model.policy.config)},
        'observation': model.obs_spec.to_dict(), 'action': model.action_spec.to_dict(),
        'state_dim': model.obs_spec.feature_dim, 'encoder': encoder,
        'index': model.index_config.to_dict(), 'num_samples': len(model.memory),
        'episode_names': list(model.episode_names), 'env_args': model.env_args,
        'control_rate_hz': model.control_rate_hz, 'training': model.training,
    }


def read_manifest(directory) -> dict:
    """bundle.json, checked for format name and version."""
    root = Path(directory)
    if not root.is_dir():
        raise BundleError(f'model bundle {root} is not a directory')
    data = read_json(root / MANIFEST)
    if data.get('format') != FORMAT_NAME:
        raise BundleError(f'{root / MANIFEST}: not a darp_ros model bundle '
                          f'(format {data.get("format")!r}, expected {FORMAT_NAME!r})')
    version = data.get('format_version')
    if not isinstance(version, int) or version < 1:
        raise BundleError(f'{root / MANIFEST}: invalid format_version {version!r}')
    if version > FORMAT_VERSION:
        raise BundleError(f'{root} is bundle format {version}, newer than this darp_ros '
                          f'{__version__} reads (up to {FORMAT_VERSION}): upgrade darp_ros')
    return data


def load_bundle(directory, device: str = 'auto') -> TrainedModel:
    """Load and check a bundle; anything wrong raises BundleError naming the file."""
    root = Path(directory)
    data = read_manifest(root)
    try:
        return _load(root, data, resolve_device(device), device)
    except BundleError:
        raise
    except (DarpError, KeyError, TypeError, ValueError) as exc:
        raise BundleError(f'{root} is inconsistent: {exc}') from None


def _load(root: Path, data: dict, torch_device: str, index_device: str) -> TrainedModel:
    obs_spec = ObservationSpec.from_dict(data['observation'])
    action_spec = ActionSpec.from_dict(data['action'])
    state_dim, action_dim = obs_spec.feature_dim, action_spec.dim
    if data.get('state_dim') != state_dim:
        raise BundleError(f'{root / MANIFEST}: state_dim {data.get("state_dim")} does not match '
                          f'the observation keys ({state_dim})')
    path = root / 'normalizer.safetensors'
    norms = read_tensors(path)
    for prefix, dim in (('state', state_dim), ('action', action_dim)):
        expect_shape(norms, f'{prefix}.mean', (dim,), path)
        expect_shape(norms, f'{prefix}.std', (dim,), path)
    index = RetrievalIndex.load(root / 'index', device=index_device)
    if index.dim != state_dim:
        raise BundleError(f'{root / "index"}: vectors have dim {index.dim}, expected {state_dim}')
    path = root / 'memory.safetensors'
    mem = read_tensors(path)
    n = index.ntotal
    memory = DemoMemory(index.vectors(), expect_shape(mem, 'actions', (n, action_dim), path),
                        expect_shape(mem, 'episodes', (n,), path).numpy(),
                        expect_shape(mem, 'steps', (n,), path).numpy(),
                        IndexConfig.from_dict(data['index']), index=index).to(torch_device)
    policy = build_policy(data['policy']['name'], data['policy']['config'], state_dim,
                          action_dim)
    policy.load_tensors(read_tensors(root / 'policy.safetensors'))
    encoder = None
    if obs_spec.image_keys:
        if not data.get('encoder'):
            raise BundleError(f'{root / MANIFEST}: image keys {list(obs_spec.image_keys)} but '
                              'no encoder recorded')
        encoder = ImageEncoder.from_state_dict(
            read_tensors(root / 'encoder.safetensors'),
            ImagePreprocessing.from_dict(data['encoder']['preprocessing']),
            EncoderWeights.from_dict(data['encoder']['weights']), torch_device)
    try:
        return TrainedModel(
            policy=policy.to(torch_device), obs_spec=obs_spec, action_spec=action_spec,
            state_normalizer=Normalizer.from_tensors(norms, 'state'),
            action_normalizer=Normalizer.from_tensors(norms, 'action'), memory=memory,
            index_config=IndexConfig.from_dict(data['index']), encoder=encoder,
            episode_names=list(data.get('episode_names', [])),
            env_args=dict(data.get('env_args') or {}), training=dict(data.get('training') or {}))
    except ConfigError as exc:
        raise BundleError(f'{root}: {exc}') from None


def _long(array) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.int64)
