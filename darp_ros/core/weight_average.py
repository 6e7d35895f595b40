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


"""An exponential moving average of a network's weights, swapped in to evaluate and keep."""

from typing import List

import torch


class WeightAverage:
    """
    Shadow weights w_avg <- decay * w_avg + (1 - decay) * w, updated after each step.

    On a few thousand demonstration rows, closed-loop return swings widely from one epoch
    to the next at a constant learning rate; the average of recent weights does not.
    """

    def __init__(self, params: List[torch.nn.Parameter], decay: float):
        self.params = list(params)
        self.decay = float(decay)
        self.shadow = [p.detach().clone() for p in self.params]
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current weights in; early on the average warms up faster."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for avg, p in zip(self.shadow, self.params):
            avg.mul_(decay).add_(p.detach(), alpha=1 - decay)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the live and the averaged weights (call twice to undo)."""
        for avg, p in zip(self.shadow, self.params):
            tmp = p.detach().clone()
            p.copy_(avg)
            avg.copy_(tmp)
