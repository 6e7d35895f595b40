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

"""Which index structure and backend a RetrievalIndex uses, with its search parameters."""

import dataclasses
from dataclasses import dataclass
import math

from darp_ros.core.errors import ConfigError
import numpy as np

INDEX_KINDS = ('flat', 'ivf', 'hnsw')
INDEX_BACKENDS = ('faiss', 'torch')


def check_int(owner, name, value, minimum):
    """Raise ConfigError naming owner.name unless value is an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f'{owner}.{name}: expected an int >= {minimum}, got {value!r}')


@dataclass(frozen=True)
class IndexConfig:
    """Which index structure and backend a RetrievalIndex uses, with its search parameters."""

    kind: str = 'flat'
    backend: str = 'faiss'
    nlist: int = 0
    nprobe: int = 16
    hnsw_m: int = 32
    ef_search: int = 128
    ef_construction: int = 200

    def __post_init__(self):
        """Reject unknown kinds/backends and out-of-range parameters."""
        if self.kind not in INDEX_KINDS:
            raise ConfigError(
                f'IndexConfig.kind: expected one of {INDEX_KINDS}, got {self.kind!r}')
        if self.backend not in INDEX_BACKENDS:
            raise ConfigError(
                f'IndexConfig.backend: expected one of {INDEX_BACKENDS}, got {self.backend!r}')
        if self.backend == 'torch' and self.kind != 'flat':
            raise ConfigError(
                "IndexConfig.kind: backend 'torch' is exact search only, expected 'flat', "
                f'got {self.kind!r}')
        for name, minimum in (('nlist', 0), ('nprobe', 1), ('hnsw_m', 2), ('ef_search', 1),
                              ('ef_construction', 1)):
            check_int('IndexConfig', name, getattr(self, name), minimum)

    def to_dict(self) -> dict:
        """Return the fields as a JSON-able dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data) -> 'IndexConfig':
        """Build a config from a dict such as to_dict() wrote, rejecting unknown keys."""
        if not isinstance(data, dict):
            raise ConfigError(f'IndexConfig: expected a dict, got {type(data).__name__}')
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f'IndexConfig: unknown keys {unknown}, expected some of {known}')
        return cls(**data)


def auto_nlist(n: int) -> int:
    """Return the IVF cell count for n vectors: about 4*sqrt(n), >= 39 training points each."""
    return max(1, min(int(round(4.0 * math.sqrt(n))), n // 39))
