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
The retrieval index on disk, each file checked against index.json when read.

index.json (metadata, written last), the vectors as safetensors and, for ivf/hnsw, the
trained faiss index.
"""

import json
from pathlib import Path

from darp_ros.core.errors import BundleError, ConfigError
from darp_ros.core.index.config import IndexConfig
import faiss
import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

FORMAT_NAME = 'darp_ros.retrieval_index'
FORMAT_VERSION = 1
META_FILE = 'index.json'
VECTORS_FILE = 'index_vectors.safetensors'
FAISS_FILE = 'index.faiss'


def write_index(directory, config: IndexConfig, vectors: np.ndarray, cpu_index=None) -> None:
    """Write the files; cpu_index (a trained faiss index) is needed unless config is flat."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    save_file({'vectors': np.ascontiguousarray(vectors)}, str(path / VECTORS_FILE))
    if config.kind != 'flat':
        faiss.write_index(cpu_index, str(path / FAISS_FILE))
    meta = {'format': FORMAT_NAME, 'format_version': FORMAT_VERSION,
            'dim': int(vectors.shape[1]), 'ntotal': int(vectors.shape[0]),
            'config': config.to_dict()}
    # Written last: a complete index.json means the other files are complete too.
    (path / META_FILE).write_text(json.dumps(meta, indent=2) + '\n', encoding='utf-8')


def read_index(directory):
    """Return (config, vectors, cpu faiss index or None for flat), each file checked."""
    path = Path(directory)
    meta_path = path / META_FILE
    meta = _read_meta(meta_path)
    try:
        config = IndexConfig.from_dict(meta.get('config'))
    except ConfigError as error:
        raise BundleError(f'{meta_path}: bad config: {error}') from error
    dim, ntotal = meta.get('dim'), meta.get('ntotal')
    for name, value, minimum in (('dim', dim, 1), ('ntotal', ntotal, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise BundleError(
                f'{meta_path}: expected {name} an int >= {minimum}, got {value!r}')
    vectors = _read_vectors(path / VECTORS_FILE, dim, ntotal)
    cpu_index = None
    if config.kind != 'flat':
        cpu_index = _read_faiss(path / FAISS_FILE, config.kind, dim, ntotal)
    return config, vectors, cpu_index


def _read_meta(path: Path) -> dict:
    if not path.is_file():
        raise BundleError(f'{path}: missing; expected the index metadata that save() writes')
    try:
        meta = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as error:
        raise BundleError(f'{path}: expected a JSON file, could not parse it ({error})') from error
    if not isinstance(meta, dict) or meta.get('format') != FORMAT_NAME:
        found = meta.get('format') if isinstance(meta, dict) else type(meta).__name__
        raise BundleError(f'{path}: expected format {FORMAT_NAME!r}, got {found!r}')
    if meta.get('format_version') != FORMAT_VERSION:
        raise BundleError(f'{path}: unknown format_version {meta.get("format_version")!r}, '
                          f'this darp_ros reads version {FORMAT_VERSION}')
    return meta


def _read_vectors(path: Path, dim: int, ntotal: int) -> np.ndarray:
    if not path.is_file():
        raise BundleError(f'{path}: missing; expected the index vectors that save() writes')
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise BundleError(f'{path}: expected a safetensors file, could not read it ({error})'
                          ) from error
    vectors = tensors.get('vectors')
    if vectors is None:
        raise BundleError(f"{path}: expected key 'vectors', got keys {sorted(tensors)}")
    if vectors.dtype != np.float32 or vectors.shape != (ntotal, dim):
        raise BundleError(f'{path}: expected float32 vectors of shape ({ntotal}, {dim}) as '
                          f'{META_FILE} says, got {vectors.dtype} {vectors.shape}')
    if not np.isfinite(vectors).all():
        raise BundleError(f'{path}: expected finite vectors, got NaN/Inf')
    return np.ascontiguousarray(vectors)


def _read_faiss(path: Path, kind: str, dim: int, ntotal: int):
    if not path.is_file():
        raise BundleError(f'{path}: missing; expected the trained {kind} faiss index')
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as error:
        raise BundleError(f'{path}: expected a faiss index file, could not read it ({error})'
                          ) from error
    expected = faiss.IndexIVFFlat if kind == 'ivf' else faiss.IndexHNSWFlat
    if not isinstance(index, expected):
        raise BundleError(f'{path}: expected a {expected.__name__}, got {type(index).__name__}')
    if index.d != dim or index.ntotal != ntotal:
        raise BundleError(f'{path}: expected dim {dim} and ntotal {ntotal} as {META_FILE} and '
                          f'{VECTORS_FILE} say, got dim {index.d} and ntotal {index.ntotal}')
    return index
