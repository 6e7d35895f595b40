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
K-nearest-neighbour search over expert states: faiss flat/IVF/HNSW or exact torch search.

config (what to build), faiss_backend and torch_backend (how each searches), files (the
on-disk format), retrieval_index (the one class callers use). Imports only darp_ros.core.
"""

from darp_ros.core.index.config import auto_nlist, INDEX_BACKENDS, INDEX_KINDS, IndexConfig
from darp_ros.core.index.faiss_backend import set_search_threads
from darp_ros.core.index.retrieval_index import RetrievalIndex, SearchResult

__all__ = ['auto_nlist', 'INDEX_BACKENDS', 'INDEX_KINDS', 'IndexConfig', 'RetrievalIndex',
           'SearchResult', 'set_search_threads']
