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

"""Everything a trained policy needs at run time, in memory: what a bundle holds on disk."""

from dataclasses import dataclass, field
from typing import Optional

from darp_ros.core.encoders import ImageEncoder
from darp_ros.core.index import IndexConfig
from darp_ros.core.memory import DemoMemory
from darp_ros.core.normalizer import Normalizer
from darp_ros.core.policies import Policy
from darp_ros.core.spec import ActionSpec, ObservationSpec


@dataclass
class TrainedModel:
    """A policy with its specs, normalizers, demonstration memory and image encoder."""

    policy: Policy
    obs_spec: ObservationSpec
    action_spec: ActionSpec
    state_normalizer: Normalizer
    action_normalizer: Normalizer
    memory: DemoMemory
    index_config: IndexConfig
    encoder: Optional[ImageEncoder] = None
    episode_names: list = field(default_factory=list)
    env_args: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)

    @property
    def control_rate_hz(self) -> Optional[float]:
        """Return the rate the demonstrations were recorded at, when the dataset says."""
        rate = self.env_args.get('env_kwargs', {}).get('control_freq')
        return float(rate) if rate else None
