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
Names for the dimensions of a feature vector, for diagnostics that say which ones matter.

robosuite's 'object' aggregate (robomimic's name for 'object-state') concatenates per-object
observations (a cube's position, its quaternion, gripper-to-cube vectors); a rollout's
observation carries those parts as keys of their own, so the aggregate's dimensions are named
after the part whose values they are.
"""

from typing import List, Mapping, Optional, Sequence

from darp_ros.core.spec import ObservationSpec
import numpy as np

AGGREGATE = 'object'


def _indexed(name: str, width: int) -> List[str]:
    return [f'{name}[{i}]' for i in range(width)]


def aggregate_parts(obs: Mapping[str, np.ndarray], aggregate: str = AGGREGATE,
                    exclude: Sequence[str] = ()) -> Optional[List[str]]:
    """
    Name each dimension of obs[aggregate] after the key whose values it holds, in order.

    Returns None when the other keys do not tile the aggregate exactly (then its dimensions
    keep plain indices). Keys in exclude (the policy's own keys) are never taken as parts,
    nor all-zero ones: a run of zeros fits anywhere (at reset robosuite reports joint
    velocities and some object-to-gripper parts as zeros), so a caller asks again later.
    """
    whole = np.asarray(obs.get(aggregate, ())).reshape(-1)
    candidates = {k: np.asarray(v).reshape(-1) for k, v in obs.items()
                  if k != aggregate and k not in exclude and np.ndim(v) == 1 and np.any(v)}
    names, position = [], 0
    while position < len(whole):
        # The longest part that matches here: a 3-vector could also match a prefix of a 4-vector.
        fits = [k for k, v in candidates.items()
                if 0 < len(v) <= len(whole) - position
                and np.array_equal(v, whole[position:position + len(v)])]
        if not fits:
            return None
        part = max(fits, key=lambda k: len(candidates[k]))
        names += _indexed(part, len(candidates[part]))
        position += len(candidates.pop(part))
    return names


def feature_names(spec: ObservationSpec, obs: Optional[Mapping[str, np.ndarray]] = None,
                  parts: Optional[List[str]] = None) -> List[str]:
    """
    Name each feature dimension `key[i]`; an 'object' aggregate by its parts.

    The parts come from parts (a list from aggregate_parts) or else from obs.
    """
    if parts is None and obs is not None:
        parts = aggregate_parts(obs, exclude=spec.names)
    names = []
    for key in spec.keys:
        if key.name == AGGREGATE and parts is not None and len(parts) == key.feature_dim:
            names += parts
        else:
            names += _indexed(key.name, key.feature_dim)
    return names
