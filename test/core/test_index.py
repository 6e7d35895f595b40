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

"""Tests of the retrieval index: exactness, approximate recall, persistence, validation."""

import json
import logging
import pickle

from darp_ros.core.errors import BundleError, ConfigError
from darp_ros.core.index import auto_nlist, IndexConfig, RetrievalIndex, SearchResult
from darp_ros.core.index.files import FAISS_FILE, META_FILE, VECTORS_FILE
import faiss
import numpy as np
import pytest
from safetensors.numpy import save_file
import torch

FAISS_GPU = faiss.get_num_gpus() > 0
TORCH_GPU = torch.cuda.is_available()


def _random(n, dim, seed):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _clustered(n, dim, seed, clusters=20):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, dim)).astype(np.float32) * 5.0
    labels = rng.integers(0, clusters, n)
    return (centers[labels] + rng.standard_normal((n, dim))).astype(np.float32)


def _recall(found, exact):
    hits = sum(len(set(f) & set(e)) for f, e in zip(found, exact))
    return hits / exact.size


def _built(kind='flat', backend='faiss', n=2000, dim=17, seed=0):
    index = RetrievalIndex(dim, IndexConfig(kind=kind, backend=backend), device='cpu')
    data = _clustered(n, dim, seed) if kind != 'flat' else _random(n, dim, seed)
    index.build(data)
    return index, data


def _assert_same(a: SearchResult, b: SearchResult):
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.distances, b.distances)


def test_faiss_flat_and_torch_backend_agree_for_numpy_and_tensor_queries():
    data, queries = _random(2000, 17, 0), _random(50, 17, 1)
    faiss_index = RetrievalIndex(17, IndexConfig(), device='cpu')
    torch_index = RetrievalIndex(17, IndexConfig(backend='torch'), device='cpu')
    faiss_index.build(data)
    torch_index.build(torch.from_numpy(data))
    reference = faiss_index.search(queries, 10)
    assert reference.ids.dtype == np.int64 and reference.distances.dtype == np.float32
    assert reference.ids.shape == (50, 10)
    assert np.all(np.diff(reference.distances, axis=1) >= 0)
    brute = np.linalg.norm(queries[:, None, :].astype(np.float64) - data[None], axis=2)
    np.testing.assert_array_equal(reference.ids, np.argsort(brute, axis=1)[:, :10])
    for q in (queries, torch.from_numpy(queries), torch.from_numpy(queries.astype(np.float64))):
        for index in (faiss_index, torch_index):
            result = index.search(q, 10)
            np.testing.assert_array_equal(result.ids, reference.ids)
            np.testing.assert_allclose(result.distances, reference.distances, rtol=1e-4)


def test_torch_backend_blocks_queries_and_matches_faiss(monkeypatch):
    monkeypatch.setattr('darp_ros.core.index.torch_backend.BLOCK_FLOATS', 2000 * 7)
    data, queries = _random(2000, 5, 2), _random(45, 5, 3)
    faiss_index, torch_index = (
        RetrievalIndex(5, IndexConfig(backend=b), device='cpu') for b in ('faiss', 'torch'))
    faiss_index.build(data)
    torch_index.build(data)
    np.testing.assert_array_equal(
        torch_index.search(queries, 4).ids, faiss_index.search(queries, 4).ids)


@pytest.mark.parametrize('backend', ['faiss', 'torch'])
def test_distances_are_euclidean(backend):
    index = RetrievalIndex(2, IndexConfig(backend=backend), device='cpu')
    points = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]], np.float32)
    index.build(points)
    points[:] = 100.0  # the index keeps its own copy
    result = index.search(np.array([[0.0, 0.0], [3.0, 0.0]]), 3)
    np.testing.assert_array_equal(result.ids, [[0, 1, 2], [0, 1, 2]])
    np.testing.assert_allclose(result.distances, [[0.0, 5.0, 10.0], [3.0, 4.0, 73 ** 0.5]],
                               rtol=1e-6)


@pytest.mark.parametrize('kind', ['ivf', 'hnsw'])
def test_approximate_kinds_recall_and_survive_save_load(kind, tmp_path):
    data, queries = _clustered(5000, 16, 4), _clustered(100, 16, 5)
    exact = RetrievalIndex(16, IndexConfig(), device='cpu')
    exact.build(data)
    index = RetrievalIndex(16, IndexConfig(kind=kind), device='cpu')
    index.build(data)
    result = index.search(queries, 10)
    assert _recall(result.ids, exact.search(queries, 10).ids) >= 0.9
    index.save(tmp_path)
    assert (tmp_path / FAISS_FILE).is_file()
    loaded = RetrievalIndex.load(tmp_path, device='cpu')
    assert loaded.config == index.config and loaded.ntotal == 5000
    _assert_same(loaded.search(queries, 10), result)
    np.testing.assert_array_equal(loaded.vectors(), data)


def test_auto_nlist_bounds():
    assert auto_nlist(1) == 1
    assert auto_nlist(5000) == 5000 // 39
    assert auto_nlist(1_000_000) == 4000
    index, _ = _built('ivf', n=500)
    assert index._index.nlist == auto_nlist(500)


@pytest.mark.parametrize('kind,backend', [('flat', 'faiss'), ('flat', 'torch'), ('ivf', 'faiss'),
                                          ('hnsw', 'faiss')])
def test_add_continues_ids_and_pads_missing_neighbours(kind, backend):
    index, data = _built(kind, backend, n=300, dim=4)
    extra = _random(20, 4, 9) + 100.0
    index.add(extra)
    assert index.ntotal == 320
    np.testing.assert_array_equal(index.vectors(), np.concatenate([data, extra]))
    result = index.search(extra[:3], 1)
    np.testing.assert_array_equal(result.ids[:, 0], [300, 301, 302])
    np.testing.assert_allclose(result.distances, 0.0, atol=1e-2)
    small = RetrievalIndex(4, IndexConfig(backend=backend), device='cpu')
    small.build(extra[:3])
    padded = small.search(extra[:2], 5)
    assert padded.ids.shape == (2, 5)
    np.testing.assert_array_equal(padded.ids[:, 3:], -1)
    assert np.all(np.isinf(padded.distances[:, 3:]))
    assert set(padded.ids[0, :3]) == {0, 1, 2}


def test_ivf_cells_with_too_few_vectors_pad_with_minus_one():
    rng = np.random.default_rng(0)
    centers = np.eye(4, dtype=np.float32) * 100.0
    data = np.concatenate([c + rng.standard_normal((50, 4)) for c in centers])
    index = RetrievalIndex(4, IndexConfig(kind='ivf', nlist=4, nprobe=1), device='cpu')
    index.build(data)
    result = index.search(centers, 60)
    missing = result.ids == -1
    assert np.all(missing.sum(axis=1) == 10)
    np.testing.assert_array_equal(np.isinf(result.distances), missing)
    assert np.all(result.distances[~missing] < 10.0)


def test_ivf_add_before_build_is_rejected():
    index = RetrievalIndex(4, IndexConfig(kind='ivf'), device='cpu')
    with pytest.raises(ConfigError, match='build'):
        index.add(_random(10, 4, 0))
    empty = RetrievalIndex(4, device='cpu').search(_random(2, 4, 0), 3)
    assert empty.ids.tolist() == [[-1] * 3] * 2 and np.all(np.isinf(empty.distances))


@pytest.mark.parametrize('kind,backend', [('flat', 'faiss'), ('flat', 'torch'), ('ivf', 'faiss'),
                                          ('hnsw', 'faiss')])
def test_save_load_round_trip(kind, backend, tmp_path):
    index, data = _built(kind, backend)
    queries = _random(30, 17, 7)
    index.save(tmp_path / 'bundle')
    meta = json.loads((tmp_path / 'bundle' / META_FILE).read_text())
    assert (meta['dim'], meta['ntotal']) == (17, 2000)
    assert meta['config'] == index.config.to_dict()
    loaded = RetrievalIndex.load(tmp_path / 'bundle', device='cpu')
    assert (loaded.dim, loaded.ntotal, loaded.config) == (17, 2000, index.config)
    _assert_same(loaded.search(queries, 10), index.search(queries, 10))


def _saved(tmp_path, kind='flat'):
    index, _ = _built(kind, n=400)
    index.save(tmp_path)
    return tmp_path


@pytest.mark.parametrize('name', [META_FILE, VECTORS_FILE])
def test_load_missing_file_names_it(name, tmp_path):
    (_saved(tmp_path) / name).unlink()
    with pytest.raises(BundleError, match=f'{name}.*missing'):
        RetrievalIndex.load(tmp_path)


def test_load_missing_faiss_file_names_it(tmp_path):
    (_saved(tmp_path, 'hnsw') / FAISS_FILE).unlink()
    with pytest.raises(BundleError, match=f'{FAISS_FILE}.*missing'):
        RetrievalIndex.load(tmp_path)


@pytest.mark.parametrize('kind', ['flat', 'ivf'])
def test_load_changed_dim_is_a_shape_mismatch(kind, tmp_path):
    meta_path = _saved(tmp_path, kind) / META_FILE
    meta = json.loads(meta_path.read_text())
    meta['dim'] = 18
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=f'{VECTORS_FILE}.*shape'):
        RetrievalIndex.load(tmp_path)


def test_load_faiss_file_with_other_ntotal_is_rejected(tmp_path):
    _saved(tmp_path, 'ivf')
    other, _ = _built('ivf', n=500)
    other.save(tmp_path / 'other')
    (tmp_path / 'other' / FAISS_FILE).replace(tmp_path / FAISS_FILE)
    with pytest.raises(BundleError, match=f'{FAISS_FILE}.*ntotal 500'):
        RetrievalIndex.load(tmp_path)


def test_load_future_format_version_is_rejected(tmp_path):
    meta_path = _saved(tmp_path) / META_FILE
    meta = json.loads(meta_path.read_text())
    meta['format_version'] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=f'{META_FILE}.*format_version 99'):
        RetrievalIndex.load(tmp_path)


def test_load_non_finite_vectors_is_rejected(tmp_path):
    _saved(tmp_path)
    save_file({'vectors': np.full((400, 17), np.nan, np.float32)}, str(tmp_path / VECTORS_FILE))
    with pytest.raises(BundleError, match=f'{VECTORS_FILE}.*NaN'):
        RetrievalIndex.load(tmp_path)


@pytest.mark.parametrize('name,kind', [(VECTORS_FILE, 'flat'), (META_FILE, 'flat'),
                                       (FAISS_FILE, 'ivf')])
def test_load_pickle_in_place_of_a_file_is_rejected(name, kind, tmp_path):
    _saved(tmp_path, kind)
    with open(tmp_path / name, 'wb') as stream:
        pickle.dump({'vectors': np.zeros((400, 17), np.float32)}, stream)
    with pytest.raises(BundleError, match=name):
        RetrievalIndex.load(tmp_path)


def test_bad_inputs_raise_clear_errors():
    index, _ = _built(n=50, dim=3)
    with pytest.raises(ValueError, match=r'expected shape \(N, 3\), got \(2, 4\)'):
        index.search(np.zeros((2, 4)), 1)
    with pytest.raises(ValueError, match=r'expected shape \(N, 3\), got \(5, 2\)'):
        index.add(np.zeros((5, 2)))
    with pytest.raises(ValueError, match='NaN'):
        index.search(np.array([[0.0, np.nan, 0.0]]), 1)
    with pytest.raises(ValueError, match='NaN'):
        index.build(np.array([[0.0, np.inf, 0.0]]))
    with pytest.raises(ValueError, match='k'):
        index.search(np.zeros((1, 3)), 0)
    with pytest.raises(ValueError, match='at least one'):
        index.build(np.zeros((0, 3)))
    torch_index = RetrievalIndex(3, IndexConfig(backend='torch'), device='cpu')
    with pytest.raises(ValueError, match='NaN'):
        torch_index.search(torch.tensor([[0.0, float('nan'), 0.0]]), 1)
    with pytest.raises(ValueError, match=r'expected shape \(N, 3\), got \(3,\)'):
        torch_index.search(torch.zeros(3), 1)


def test_bad_configs_raise_config_errors():
    with pytest.raises(ConfigError, match="IndexConfig.kind.*got 'lsh'"):
        IndexConfig(kind='lsh')
    with pytest.raises(ConfigError, match="IndexConfig.kind.*'flat'"):
        IndexConfig(kind='ivf', backend='torch')
    with pytest.raises(ConfigError, match='IndexConfig.nprobe.*>= 1.*got 0'):
        IndexConfig(nprobe=0)
    with pytest.raises(ConfigError, match='unknown keys'):
        IndexConfig.from_dict({'kind': 'flat', 'metric': 'ip'})
    config = IndexConfig(kind='hnsw', hnsw_m=16)
    assert IndexConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ConfigError, match='dim'):
        RetrievalIndex(0)
    with pytest.raises(ConfigError, match='device'):
        RetrievalIndex(3, device='tpu')
    with pytest.raises(ConfigError, match='nlist'):
        RetrievalIndex(3, IndexConfig(kind='ivf', nlist=64), device='cpu').build(_random(10, 3, 0))


@pytest.mark.skipif(FAISS_GPU, reason='a GPU is present')
def test_cuda_without_gpu_is_a_config_error_and_auto_falls_back(caplog):
    with pytest.raises(ConfigError, match='cuda'):
        RetrievalIndex(3, device='cuda')
    with caplog.at_level(logging.INFO, logger='darp_ros.core.index'):
        assert RetrievalIndex(3).device == 'cpu'
    assert 'CPU' in caplog.text


@pytest.mark.skipif(TORCH_GPU, reason='a GPU is present')
def test_torch_cuda_without_gpu_is_a_config_error():
    with pytest.raises(ConfigError, match='cuda'):
        RetrievalIndex(3, IndexConfig(backend='torch'), device='cuda')


@pytest.mark.skipif(not FAISS_GPU, reason='needs a GPU visible to faiss')
@pytest.mark.parametrize('kind', ['flat', 'ivf'])
def test_faiss_gpu_matches_cpu(kind, tmp_path):
    data, queries = _clustered(5000, 16, 0), _clustered(64, 16, 1)
    cpu = RetrievalIndex(16, IndexConfig(kind=kind), device='cpu')
    cpu.build(data)
    cpu.save(tmp_path)
    gpu = RetrievalIndex.load(tmp_path, device='cuda')
    assert gpu.device == 'cuda'
    expected, found = cpu.search(queries, 10), gpu.search(torch.from_numpy(queries).cuda(), 10)
    np.testing.assert_array_equal(found.ids, expected.ids)
    np.testing.assert_allclose(found.distances, expected.distances, rtol=1e-4, atol=1e-4)
    gpu.save(tmp_path / 'again')
    _assert_same(RetrievalIndex.load(tmp_path / 'again', device='cpu').search(queries, 10),
                 expected)
    assert RetrievalIndex(16, IndexConfig(kind='hnsw'), device='cuda').device == 'cpu'


@pytest.mark.skipif(not TORCH_GPU, reason='needs a GPU visible to torch')
def test_torch_gpu_matches_cpu():
    data, queries = _random(3000, 17, 0), _random(40, 17, 1)
    cpu = RetrievalIndex(17, IndexConfig(backend='torch'), device='cpu')
    gpu = RetrievalIndex(17, IndexConfig(backend='torch'), device='cuda')
    cpu.build(data)
    gpu.build(data)
    np.testing.assert_array_equal(gpu.search(queries, 10).ids, cpu.search(queries, 10).ids)
