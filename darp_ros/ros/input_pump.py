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
The policy node's inputs, taken on a thread of their own at a bounded rate.

A 6 kHz JointState flood handled on the control executor used the cores the inference
needed: most control cycles overran and held. Here the input subscriptions live on a helper
node spun by this thread, which takes at most `budget` messages per window and then sleeps
out the window. With a history depth of 1 the message waiting after the sleep is the newest,
so a bounded rate costs at most one window of freshness, whatever the publishers do.
"""

import threading
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor

WINDOW_S = 0.005            # freshness bound when throttled
MESSAGES_PER_TOPIC = 5      # per window: 1 kHz per topic passes untouched


class InputPump:
    """A helper node for subscriptions and the thread that spins it, budgeted."""

    def __init__(self, owner, topics: int):
        # The helper sits in the owner's namespace, so relative topic names resolve alike.
        self.node = rclpy.create_node(f'{owner.get_name()}_inputs', context=owner.context,
                                      namespace=owner.get_namespace(),
                                      start_parameter_services=False)
        self.budget = MESSAGES_PER_TOPIC * max(1, topics)
        self.throttled_windows = 0
        self._context, self._logger = owner.context, owner.get_logger()
        self._executor = SingleThreadedExecutor(context=owner.context)
        self._executor.add_node(self.node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='darp_inputs', daemon=True)

    def start(self) -> None:
        """Start taking messages."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            window_end = time.monotonic() + WINDOW_S
            taken = 0
            while taken < self.budget and not self._stop.is_set():
                remaining = window_end - time.monotonic()
                if remaining <= 0.0:
                    break
                try:
                    self._executor.spin_once(timeout_sec=remaining)
                except Exception as exc:  # noqa: B902 - ending the thread would be silent
                    if self._stop.is_set() or not self._context.ok():
                        return      # the context went away: nothing left to take
                    # A failing callback must not end the inputs: the node would only say stale.
                    self._logger.error(f'input callback failed: {exc!r}',
                                       throttle_duration_sec=1.0)
                taken += 1
            if taken >= self.budget:
                self.throttled_windows += 1
                time.sleep(max(0.0, window_end - time.monotonic()))

    def close(self) -> None:
        """Stop the thread, then destroy the helper node and its subscriptions."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
