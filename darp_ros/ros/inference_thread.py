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
One long-lived thread that runs every inference, handed work without waiting for it.

Torch keeps per-thread state (its thread pool, grad mode): running inference on whichever
executor thread fires the timer pays that set-up again. And a timer callback that waits for
inference keeps its callback group busy while the timer is ready again, which makes rclpy's
multi-threaded executor spin on the GIL that inference needs. So the timer submits and
returns; the thread acts and publishes, and a tick that finds it still busy is an overrun.
"""

from concurrent.futures import Future, ThreadPoolExecutor
import threading
from typing import Any, Callable, Optional


class InferenceThread:
    """Run one call at a time on a dedicated thread; refuse new work while one runs."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix='darp_inference')
        self._pending: Optional[Future] = None
        self._lock = threading.Lock()

    def busy(self) -> bool:
        """Return whether a call is still running."""
        return self._pending is not None and not self._pending.done()

    def submit(self, function: Callable[..., Any], *args) -> bool:
        """Start function(*args) on the thread; return False (and start nothing) if busy."""
        with self._lock:
            if self.busy():
                return False
            self._pending = self._pool.submit(function, *args)
            return True

    def run(self, function: Callable[..., Any], *args) -> Any:
        """Run function(*args) on the thread and return its result (warm-up, set-up)."""
        return self._pool.submit(function, *args).result()

    def wait(self) -> None:
        """Return once the running call, if any, has finished."""
        pending = self._pending
        if pending is not None:
            pending.exception()

    def close(self) -> None:
        """Let a running call finish, then stop the thread."""
        self._pool.shutdown(wait=True)
