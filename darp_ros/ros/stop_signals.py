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


"""SIGINT and SIGTERM as a request to stop, so a node can publish its last message first."""

import signal
import threading

import rclpy
from rclpy.signals import SignalHandlerOptions


def init_with_stop_signals(args=None) -> threading.Event:
    """
    Initialise rclpy without its signal handlers; return the event SIGINT/SIGTERM set.

    rclpy's handlers invalidate the context at once: a final hold could not be published
    and spin() would raise. The caller spins until the event is set, then shuts down.
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
