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
Time the stages of a runtime step by wrapping the very functions the runtime calls.

Wrappers replace bound methods on the instances (never on classes) and record exclusive
time: a stage nested in another (the index search inside the policy's act) is subtracted
from its parent, so the stages of one step add up to the time they cover. Each wrapper
costs two perf_counter calls; on CUDA it also synchronizes, which only bench mode does.
"""

import time
from typing import Callable, Dict, List, Tuple

# Inside these stages nested calls are not timed separately: the novelty stage IS a search.
ABSORBING = ('novelty',)


class StageClock:
    """Accumulate exclusive seconds per stage over one step; start() begins the next step."""

    def __init__(self, sync: Callable[[], None] = lambda: None):
        self.sync = sync
        self.seconds: Dict[str, float] = {}
        self._stack: List[list] = []
        self._installed: List[Tuple[object, str, bool, object]] = []

    def start(self) -> None:
        """Forget the previous step's stage times."""
        self.seconds = {}

    def wrap(self, stage: str, function: Callable) -> Callable:
        """Return function timed as stage (exclusive of stages nested inside it)."""
        def timed(*args, **kwargs):
            if self._stack and self._stack[-1][0] in ABSORBING:
                return function(*args, **kwargs)
            self.sync()
            frame = [stage, time.perf_counter(), 0.0]
            self._stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                self.sync()
                elapsed = time.perf_counter() - frame[1]
                self._stack.pop()
                self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed - frame[2]
                if self._stack:
                    self._stack[-1][2] += elapsed
        return timed

    def install(self, owner, attribute: str, stage: str) -> None:
        """Replace owner.attribute (a method or callable) by its timed version."""
        had_own = attribute in vars(owner)
        original = getattr(owner, attribute)
        self._installed.append((owner, attribute, had_own, original))
        setattr(owner, attribute, self.wrap(stage, original))

    def uninstall(self) -> None:
        """Put every wrapped attribute back as it was, newest first."""
        while self._installed:
            owner, attribute, had_own, original = self._installed.pop()
            if had_own:
                setattr(owner, attribute, original)
            else:
                delattr(owner, attribute)
