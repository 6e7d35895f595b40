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

"""The training loop: which weights it keeps, and when it stops."""

from darp_ros.core.errors import ConfigError
from darp_ros.core.training import fit_module, TrainConfig
import pytest
import torch


def _fit(keep: str, patience: int = 2):
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    module = torch.nn.Linear(3, 1)
    # A validation loss that only gets worse after the first epoch.
    scores = iter(float(i) for i in range(100))
    report = fit_module(module, 64, lambda ids: ((module(x[ids]) - y[ids]) ** 2).mean(),
                        lambda: next(scores),
                        TrainConfig(epochs=12, batch_size=16, patience=patience, keep=keep,
                                    progress=False), 'cpu')
    return module, report, ((module(x) - y) ** 2).mean().item()


def test_best_restores_the_best_validation_epoch_and_stops_early():
    _, report, _ = _fit('best')
    assert report.best_epoch == 1 and report.epochs_run == 3
    assert report.notes['kept_weights'] == 'best'


def test_last_runs_every_epoch_and_keeps_the_final_weights():
    _, best_report, best_error = _fit('best', patience=0)
    _, report, error = _fit('last')
    assert report.epochs_run == 12 and report.notes['kept_weights'] == 'last'
    assert error < best_error      # the final weights fit better than epoch 1's


def test_unknown_keep_is_rejected():
    with pytest.raises(ConfigError, match='keep'):
        TrainConfig(keep='middle')
