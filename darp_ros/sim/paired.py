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

That test counts episodes and so ignores how much a policy moves from one training seed to
the next. Where both policies have several training seeds, `seed_lead` gives the lead per
training seed and a Student t interval of its mean over the seeds: the spread a reader
should expect from training the two again.
"""

from collections import defaultdict
from dataclasses import dataclass
from math import comb, sqrt
from statistics import mean, stdev
from typing import Hashable, Mapping, Optional

# Two-sided 95% quantiles of Student's t by degrees of freedom (seeds - 1); a df between or
# beyond the listed ones takes the next lower one's, a slightly wider interval.
T_95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
        16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042}


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


@dataclass(frozen=True)
class SeedLead:
    """A's success rate minus B's, in points, for each training seed both have."""

    leads: Mapping[Hashable, float]

    @property
    def mean(self) -> float:
        """Return the mean lead over the training seeds."""
        return mean(self.leads.values())

    @property
    def interval(self) -> Optional[tuple]:
        """Return the 95% Student t interval of the mean lead; None under two seeds."""
        n = len(self.leads)
        if n < 2:
            return None
        df = n - 1
        quantile = T_95.get(df) or T_95[max(k for k in T_95 if k <= df)]
        half = quantile * stdev(self.leads.values()) / sqrt(n)
        return self.mean - half, self.mean + half

    def text(self) -> str:
        """Return e.g. '+13 (10, 25, 3; 95% -15..+41)'."""
        seeds = ', '.join(f'{round(lead)}' for _, lead in sorted(self.leads.items()))
        interval = self.interval
        spread = f'; 95% {round(interval[0]):+d}..{round(interval[1]):+d}' if interval else ''
        return f'{round(self.mean):+d} ({seeds}{spread})'


def seed_lead(a: Mapping[tuple, bool], b: Mapping[tuple, bool]) -> SeedLead:
    """Lead of A over B per training seed, on the (training seed, episode) keys both ran."""
    solved = defaultdict(lambda: [0, 0, 0])     # training seed -> [A solved, B solved, ran]
    for key in a.keys() & b.keys():
        counts = solved[key[0]]
        counts[0] += bool(a[key])
        counts[1] += bool(b[key])
        counts[2] += 1
    return SeedLead({seed: 100.0 * (in_a - in_b) / ran
                     for seed, (in_a, in_b, ran) in solved.items()})
