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
A recipe: the policy, its options and its training settings, as one JSON file.

`darp tune` writes the best trial as a recipe; `darp train --recipe` and `darp benchmark
--recipe` read it, so a tuned configuration is used exactly as it was found.
"""

from dataclasses import dataclass, field, fields
from pathlib import Path

from darp_ros.core.config import config_from_dict
from darp_ros.core.errors import ConfigError
from darp_ros.core.policies import policy_class
from darp_ros.core.safe_io import read_json, write_json
from darp_ros.core.training import TrainConfig

RECIPE_FORMAT = 'darp_ros.recipe'
# Training settings a recipe may fix; seed and progress belong to each run, not the recipe.
TRAIN_KEYS = tuple(f.name for f in fields(TrainConfig) if f.name not in ('seed', 'progress'))


@dataclass(frozen=True)
class Recipe:
    """The policy name, its options (policy_config) and TrainConfig fields (train)."""

    policy: str
    policy_config: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    # Where it came from (study name, trial, score): recorded, never read back.
    source: dict = field(default_factory=dict)

    def __post_init__(self):
        config_from_dict(policy_class(self.policy).config_class, self.policy_config)
        unknown = sorted(set(self.train) - set(TRAIN_KEYS))
        if unknown:
            raise ConfigError(f'recipe train settings {unknown} are unknown; known: '
                              f'{list(TRAIN_KEYS)}')
        config_from_dict(TrainConfig, self.train)

    def train_config(self, **overrides) -> TrainConfig:
        """Return the TrainConfig of the recipe, with overrides (None values ignored) on top."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return config_from_dict(TrainConfig, {**self.train, **given})

    def to_dict(self) -> dict:
        """Return the JSON form."""
        return {'format': RECIPE_FORMAT, 'policy': self.policy,
                'policy_config': dict(self.policy_config), 'train': dict(self.train),
                'source': dict(self.source)}

    def save(self, path) -> Path:
        """Write the recipe as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path) -> 'Recipe':
        """Read and check a recipe file; anything wrong raises an error naming the file."""
        try:
            return cls.load_dict(read_json(Path(path)))
        except ConfigError as exc:
            raise ConfigError(f'{path}: {exc}') from None

    @classmethod
    def load_dict(cls, data: dict) -> 'Recipe':
        """Inverse of to_dict(); anything wrong raises ConfigError."""
        if data.get('format') != RECIPE_FORMAT:
            raise ConfigError(f'not a darp_ros recipe (format {data.get("format")!r}, '
                              f'expected {RECIPE_FORMAT!r})')
        return cls(data.get('policy', ''), data.get('policy_config') or {},
                   data.get('train') or {}, data.get('source') or {})
