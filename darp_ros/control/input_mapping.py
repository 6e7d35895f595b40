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


"""Where one observation key comes from: a topic, its message type and which part to take."""

from dataclasses import dataclass
from typing import Optional, Tuple

IMAGE_TYPES = ('image', 'compressed_image')
FIELDS = {'joint_state': ('position', 'velocity', 'effort'),
          'pose_stamped': ('position', 'orientation', 'pose'),
          'float64_multi_array': ('',), 'image': ('',), 'compressed_image': ('',)}
POSE_WIDTH = {'position': 3, 'orientation': 4, 'pose': 7}


@dataclass(frozen=True)
class InputMapping:
    """Where one observation key comes from: a topic, its message type and what to take."""

    key: str
    topic: str
    msg_type: str
    field: str = ''
    joints: Tuple[str, ...] = ()
    indices: Tuple[int, ...] = ()
    reliability: str = ''
    depth: int = 0
    resize: bool = False

    @property
    def is_image(self) -> bool:
        """Return whether this key is a camera."""
        return self.msg_type in IMAGE_TYPES

    @property
    def best_effort(self) -> bool:
        """Return whether to subscribe best effort (default for cameras: sensor data QoS)."""
        return self.reliability == 'best_effort' or (not self.reliability and self.is_image)

    @property
    def history_depth(self) -> int:
        """Return the QoS depth: 1 unless set (the node acts on the newest message only)."""
        return self.depth or 1

    def width(self) -> Optional[int]:
        """Return the number of values this mapping yields, when the config alone says."""
        if self.msg_type == 'joint_state':
            return None if self.joints == ('*',) else len(self.joints)
        if self.msg_type == 'pose_stamped':
            return POSE_WIDTH[self.field]
        if self.msg_type == 'float64_multi_array' and self.indices:
            return len(self.indices)
        return None
