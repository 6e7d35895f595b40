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


def _fit_closed_loop(scores, epochs=12, every=3, confirm_scores=None, **extra):
    """Train a linear fit; the 'simulator' scores the weights from a fixed script."""
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    module = torch.nn.Linear(3, 1)
    calls, seen = iter(scores), {}

    def closed_loop():
        value = next(calls)
        seen[value] = module.weight.detach().clone()
        return value

    def confirm():
        # The second score is looked up by which first-scored weights are loaded.
        first = next(v for v, w in seen.items() if torch.equal(w, module.weight))
        return confirm_scores[first]
    report = fit_module(module, 64, lambda ids: ((module(x[ids]) - y[ids]) ** 2).mean(), None,
                        TrainConfig(epochs=epochs, batch_size=16, keep='closed_loop',
                                    select_every=every, progress=False, **extra), 'cpu',
                        closed_loop=closed_loop,
                        confirm=confirm if confirm_scores is not None else None)
    return module, report, seen


def test_closed_loop_keeps_the_weights_that_scored_best():
    # Scored after epochs 3, 6, 9 and 12 (the last epoch is always scored).
    module, report, seen = _fit_closed_loop([0.1, 0.9, 0.3, 0.2])
    assert report.best_epoch == 6 and report.epochs_run == 12
    assert report.notes['closed_loop_scores'] == [[3, 0.1], [6, 0.9], [9, 0.3], [12, 0.2]]
    assert torch.equal(module.weight, seen[0.9])


def test_closed_loop_scores_the_final_epoch_off_the_grid():
    _, report, _ = _fit_closed_loop([0.1, 0.2, 0.7], epochs=7, every=3)
    assert [e for e, _ in report.notes['closed_loop_scores']] == [3, 6, 7]
    assert report.best_epoch == 7


def test_finalists_are_rescored_and_the_best_second_score_is_kept():
    # First scores after epochs 3, 6, 9, 12; the two best (6: 0.9, 9: 0.5) are finalists.
    # The lucky 0.9 confirms at 0.2, the 0.5 at 0.6: epoch 9's weights are kept.
    module, report, seen = _fit_closed_loop([0.1, 0.9, 0.5, 0.2], select_finalists=2,
                                            confirm_scores={0.9: 0.2, 0.5: 0.6})
    assert report.best_epoch == 9
    assert report.notes['finalists'] == [[6, 0.9, 0.2], [9, 0.5, 0.6]]
    assert torch.equal(module.weight, seen[0.5])


def test_a_confirmed_tie_goes_to_the_better_first_score():
    module, report, seen = _fit_closed_loop([0.4, 0.8, 0.6, 0.1], select_finalists=3,
                                            confirm_scores={0.8: 0.5, 0.6: 0.5, 0.4: 0.3})
    assert report.best_epoch == 6 and torch.equal(module.weight, seen[0.8])
    assert [epoch for epoch, _, _ in report.notes['finalists']] == [6, 9, 3]


def test_finalists_without_a_second_score_are_refused():
    with pytest.raises(ConfigError, match='select_finalists'):
        _fit_closed_loop([0.1, 0.2, 0.3, 0.4], select_finalists=2)


def test_closed_loop_without_a_simulator_is_refused():
    module = torch.nn.Linear(3, 1)
    with pytest.raises(ConfigError, match='closed_loop'):
        fit_module(module, 4, lambda ids: module(torch.zeros(len(ids), 3)).sum(), None,
                   TrainConfig(epochs=1, keep='closed_loop', progress=False), 'cpu')


def test_last_reports_the_last_epoch_as_the_kept_one():
    _, report, _ = _fit('last')
    assert report.best_epoch == report.epochs_run == 12


def test_weight_average_is_what_is_scored_and_kept():
    averaged, report, seen = _fit_closed_loop([0.1, 0.2, 0.3, 0.9], ema=0.999, lr=0.05)
    raw, _, raw_seen = _fit_closed_loop([0.1, 0.2, 0.3, 0.9], lr=0.05)
    assert report.best_epoch == 12
    assert torch.equal(averaged.weight, seen[0.9]) and torch.equal(raw.weight, raw_seen[0.9])
    # The same steps, but what was scored and kept is the average, not the last weights.
    assert not torch.allclose(averaged.weight, raw.weight, atol=1e-3)


def test_cosine_schedule_ends_at_zero_learning_rate():
    torch.manual_seed(0)
    module = torch.nn.Linear(3, 1)
    x = torch.randn(32, 3)
    weights = []

    def loss(ids):
        weights.append(module.weight.detach().clone())
        return (module(x[ids]) ** 2).mean()
    config = TrainConfig(epochs=4, batch_size=8, lr=0.1, lr_schedule='cosine', keep='last',
                         progress=False)
    fit_module(module, 32, loss, None, config, 'cpu')
    first_step = (weights[1] - weights[0]).norm()
    last_step = (module.weight.detach() - weights[-1]).norm()
    assert last_step < 0.05 * first_step


@pytest.mark.parametrize('field,value', [('lr_schedule', 'step'), ('ema', 1.0),
                                         ('state_noise', -0.1), ('select_every', 0)])
def test_new_settings_out_of_range_are_rejected(field, value):
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**{field: value})
