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

"""Typed dataclass configs to and from JSON, rejecting unknown keys with a clear message."""

import dataclasses
from typing import Any, Mapping, Type, TypeVar

from darp_ros.core.errors import ConfigError

T = TypeVar('T')


def config_to_dict(config: Any) -> dict:
    """Return a dataclass config as a JSON-able dict (tuples become lists)."""
    return {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def config_from_dict(cls: Type[T], data: Mapping[str, Any]) -> T:
    """Build cls from a dict; unknown keys and wrong types raise ConfigError naming them."""
    if not isinstance(data, Mapping):
        raise ConfigError(f'{cls.__name__}: expected a mapping, got {type(data).__name__}')
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f'{cls.__name__}: unknown option(s) {unknown}; '
                          f'known: {sorted(fields)}')
    values = {}
    for name, value in data.items():
        default = fields[name].default
        if isinstance(default, tuple) and isinstance(value, (list, tuple)):
            value = tuple(value)
        elif isinstance(default, bool) != isinstance(value, bool):
            # bool is an int subclass: without this, k=true would pass as k=1.
            expected = 'true/false' if isinstance(default, bool) else type(default).__name__
            raise ConfigError(f'{cls.__name__}.{name}: expected {expected}, got {value!r}')
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif default not in (None, dataclasses.MISSING) and \
                not isinstance(value, type(default)):
            raise ConfigError(f'{cls.__name__}.{name}: expected {type(default).__name__}, '
                              f'got {value!r}')
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f'{cls.__name__}: {exc}') from None


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value
