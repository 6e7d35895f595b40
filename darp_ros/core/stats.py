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

"""Summary statistics for reported results."""

import math
from typing import Sequence, Tuple

import numpy as np

Z_95 = 1.959963984540054   # two-sided 95% normal quantile


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Tuple[float, float]:
    """
    Return the Wilson score interval of a success rate.

    Unlike the normal approximation it stays inside [0, 1] and is honest at 0/n and n/n,
    which closed-loop results often are.
    """
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f'successes must be in [0, {trials}], found {successes}')
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def latency_summary(seconds: Sequence[float]) -> dict:
    """Return median and p99 of per-step latencies, in milliseconds."""
    values = np.asarray(seconds, dtype=np.float64) * 1e3
    if values.size == 0:
        return {'median_ms': None, 'p99_ms': None, 'steps': 0}
    return {'median_ms': float(np.median(values)), 'p99_ms': float(np.percentile(values, 99)),
            'steps': int(values.size)}
