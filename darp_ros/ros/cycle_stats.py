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


"""Counters and a latency window for the control loop, read by /diagnostics."""

from collections import deque
from typing import Deque, Dict, Optional

import numpy as np

LATENCY_WINDOW = 1000


class CycleStats:
    """What the control loop did: cycles, commands, holds, overruns, late ticks, latencies."""

    def __init__(self, period_s: float):
        self.period_s = period_s
        self.cycles = 0
        self.commands = 0
        self.holds = 0
        self.overruns = 0
        self.missed_cycles = 0
        self.interventions = 0
        # Commands changed by each limit ('velocity limit on x', ...): which one acts.
        self.interventions_by_limit: Dict[str, int] = {}
        self.last_fault = ''
        self.latencies: Deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._last_tick: Optional[float] = None

    def tick(self, now_s: float) -> None:
        """Count a cycle; a gap of more than 1.5 periods since the last one counts as missed."""
        self.cycles += 1
        if self._last_tick is not None:
            gap = now_s - self._last_tick
            if gap > 1.5 * self.period_s:
                self.missed_cycles += int(round(gap / self.period_s)) - 1
        self._last_tick = now_s

    def restart(self) -> None:
        """Forget the last tick (the timer was stopped, so the next gap is not a miss)."""
        self._last_tick = None

    def latency_ms(self, quantile: float) -> float:
        """Return a quantile of the recent inference latencies in ms (NaN before any)."""
        if not self.latencies:
            return float('nan')
        return float(np.quantile(np.fromiter(self.latencies, float), quantile) * 1e3)
