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
Two policies run on the same environment seeds, compared episode by episode.

Two success rates with overlapping intervals can still differ: when both policies met the
same initial states, the episodes that only one of them solved carry the comparison (an
exact McNemar test: under no difference, each such episode is a fair coin).
"""

from dataclasses import dataclass
from math import comb
from typing import Hashable, Mapping


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Return the two-sided exact McNemar p-value of the discordant counts."""
    n = only_a + only_b
    tail = sum(comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Paired:
    """Episodes only A solved, only B solved, both solved, out of those both ran."""

    only_a: int
    only_b: int
    both: int
    episodes: int

    @property
    def p_value(self) -> float:
        """Return the exact McNemar p-value of only_a against only_b."""
        return mcnemar_p(self.only_a, self.only_b)

    def p_text(self) -> str:
        """Return 'p < 0.001' or 'p = 0.123'."""
        p = self.p_value
        return 'p < 0.001' if p < 0.001 else f'p = {p:.3f}'


def paired(a: Mapping[Hashable, bool], b: Mapping[Hashable, bool]) -> Paired:
    """Compare two outcome maps on the keys (e.g. environment seeds) they share."""
    keys = a.keys() & b.keys()
    return Paired(only_a=sum(bool(a[k]) and not b[k] for k in keys),
                  only_b=sum(bool(b[k]) and not a[k] for k in keys),
                  both=sum(bool(a[k]) and bool(b[k]) for k in keys), episodes=len(keys))
