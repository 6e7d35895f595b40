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

"""The one training loop: seeded, AdamW, grad clipping, validation, best-checkpoint selection."""

import copy
from dataclasses import asdict, dataclass, field
import logging
import math
import time
from typing import Callable, Optional

from darp_ros.core.errors import ConfigError
from darp_ros.core.weight_average import WeightAverage
import torch
from tqdm import tqdm

logger = logging.getLogger(__name__)

KEEP_CHOICES = ('best', 'last', 'closed_loop')


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by every trained policy."""

    epochs: int = 50
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-6
    grad_clip: float = 1.0
    # Epochs without a better validation loss before stopping; 0 trains every epoch.
    patience: int = 15
    # Which weights to keep: 'best' (lowest validation loss, early stopping), 'last'
    # (every epoch runs) or 'closed_loop' (every epoch runs; the weights that scored best
    # when rolled out in the simulator every select_every epochs, on tuning seeds). Action
    # MSE on held-out demonstrations can bottom out long before closed-loop behaviour does,
    # and returns swing widely from one epoch to the next on small datasets, which is why
    # the DARP authors (and robomimic) select epochs by rollouts.
    keep: str = 'best'
    select_every: int = 10
    # With keep 'closed_loop': how many of the best-scoring checkpoints are scored again,
    # on fresh tuning seeds, before one is kept (0: keep the best first score). The best of
    # many noisy scores is an optimistic draw; a second, independent score of a short list
    # picks a checkpoint that is good rather than lucky.
    select_finalists: int = 0
    # 'constant', or 'cosine': decay to zero over the run, so the last weights settle.
    lr_schedule: str = 'constant'
    # Decay of an exponential moving average of the weights; 0 keeps the raw weights.
    # With it, validation, closed-loop scores and the saved weights use the average.
    ema: float = 0.0
    # Std of Gaussian noise added to the query states of each batch (z-scored units): a
    # smoothness prior for policies that meet states a little off the demonstrations.
    state_noise: float = 0.0
    # Floor on each state dimension's z-scoring spread, as a fraction of the median
    # dimension's spread (Normalizer.fit); 0 z-scores every dimension by its own spread.
    state_scale_floor: float = 0.0
    seed: int = 0
    progress: bool = True

    def __post_init__(self):
        checks = {'epochs': self.epochs >= 1, 'batch_size': self.batch_size >= 1,
                  'lr': self.lr > 0, 'weight_decay': self.weight_decay >= 0,
                  'grad_clip': self.grad_clip > 0, 'patience': self.patience >= 0,
                  'keep': self.keep in KEEP_CHOICES, 'select_every': self.select_every >= 1,
                  'select_finalists': self.select_finalists >= 0,
                  'lr_schedule': self.lr_schedule in ('constant', 'cosine'),
                  'ema': 0 <= self.ema < 1, 'state_noise': self.state_noise >= 0,
                  'state_scale_floor': self.state_scale_floor >= 0}
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f'train config {name} out of range: {getattr(self, name)!r}')

    def to_dict(self) -> dict:
        """Return a JSON-able dict."""
        return asdict(self)


def jitter(states: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """Return states with config.state_noise Gaussian noise added (unchanged when 0)."""
    if not config.state_noise:
        return states
    return states + config.state_noise * torch.randn_like(states)


@dataclass
class FitReport:
    """What happened during fitting, recorded in the bundle."""

    epochs_run: int = 0
    best_epoch: int = 0
    best_val_loss: Optional[float] = None
    train_losses: list = field(default_factory=list)
    val_losses: list = field(default_factory=list)
    seconds: float = 0.0
    notes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return a JSON-able dict."""
        return asdict(self)


def fit_module(module: torch.nn.Module, n_train: int,
               batch_loss: Callable[[torch.Tensor], torch.Tensor],
               val_loss: Optional[Callable[[], float]], config: TrainConfig, device: str,
               desc: str = 'train',
               on_epoch: Optional[Callable[[int], None]] = None,
               closed_loop: Optional[Callable[[], float]] = None,
               confirm: Optional[Callable[[], float]] = None) -> FitReport:
    """
    Minimise batch_loss(row_ids) over shuffled rows; keep the weights of the best epoch.

    With keep 'best', the best epoch is the one with the lowest validation loss (training
    loss when there is no validation set). With keep 'closed_loop', closed_loop() (higher is
    better: success rate or return on tuning seeds) scores the weights every select_every
    epochs and after the last one, and the best-scoring weights are kept; with
    select_finalists, the best few are scored again by confirm() (fresh tuning seeds) and
    the one that confirm() rates highest is kept.
    """
    if n_train < 1:
        raise ConfigError('no training samples')
    if config.keep == 'closed_loop' and closed_loop is None:
        raise ConfigError("keep='closed_loop' needs a simulator to score checkpoints in; "
                          'this training run was given none')
    if config.keep == 'closed_loop' and config.select_finalists and confirm is None:
        raise ConfigError('select_finalists needs a second closed-loop score on fresh tuning '
                          'seeds; this training run was given none')
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(config.seed)
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    total_steps = config.epochs * math.ceil(n_train / config.batch_size)
    schedule = None
    if config.lr_schedule == 'cosine':
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps)
                                                        / total_steps)))
    average = WeightAverage(params, config.ema) if config.ema > 0 else None
    report = FitReport()
    best_state, best_loss, stale = None, math.inf, 0
    best_score, scores = -math.inf, []
    finalists = []      # [score, epoch, weights] of the best select_finalists checkpoints
    bar = tqdm(range(config.epochs), desc=desc, disable=not config.progress, leave=False)
    for epoch in bar:
        if on_epoch is not None:
            on_epoch(epoch)
        module.train()
        order = torch.randperm(n_train, generator=generator)
        total, batches = 0.0, 0
        for first in range(0, n_train, config.batch_size):
            ids = order[first:first + config.batch_size].to(device)
            loss = batch_loss(ids)
            if not torch.isfinite(loss):
                raise FloatingPointError(f'{desc}: loss became {loss.item()} at epoch {epoch}; '
                                         'lower the learning rate')
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            optimizer.step()
            if schedule is not None:
                schedule.step()
            if average is not None:
                average.update()
            total += loss.item()
            batches += 1
        report.train_losses.append(total / batches)
        module.eval()
        if average is not None:
            average.swap()      # judge and keep the averaged weights; swapped back below
        with torch.no_grad():
            score = val_loss() if val_loss is not None else report.train_losses[-1]
        report.val_losses.append(float(score))
        bar.set_postfix(train=f'{report.train_losses[-1]:.4f}', val=f'{score:.4f}')
        report.epochs_run = epoch + 1
        if config.keep == 'closed_loop':
            if (epoch + 1) % config.select_every == 0 or epoch + 1 == config.epochs:
                returned = float(closed_loop())
                scores.append([epoch + 1, returned])
                logger.info('%s: epoch %d scores %.4g closed-loop', desc, epoch + 1, returned)
                if returned > best_score:
                    best_score, report.best_epoch = returned, epoch + 1
                    best_state = copy.deepcopy(module.state_dict())
                keep_finalist(finalists, config.select_finalists, returned, epoch + 1,
                              module)
                module.eval()
            best_loss = min(best_loss, score)
        elif score < best_loss:
            best_loss, stale, report.best_epoch = score, 0, epoch + 1
            if config.keep == 'best':
                best_state = copy.deepcopy(module.state_dict())
        else:
            stale += 1
        if average is not None:
            average.swap()
        if config.keep == 'best' and config.patience and stale >= config.patience:
            logger.info('%s: early stop after epoch %d (best %d)', desc, epoch + 1,
                        report.best_epoch)
            break
    if config.keep == 'last':
        report.best_epoch = report.epochs_run
        if average is not None:
            average.swap()
    else:
        module.load_state_dict(best_state)
    if finalists:
        best_state, report.best_epoch, report.notes['finalists'] = confirm_finalists(
            module, finalists, confirm)
        module.load_state_dict(best_state)
    module.eval()
    report.best_val_loss = float(best_loss)
    report.notes['kept_weights'] = config.keep
    if scores:
        report.notes['closed_loop_scores'] = scores
    report.seconds = time.perf_counter() - start
    return report


def keep_finalist(finalists: list, size: int, score: float, epoch: int,
                  module: torch.nn.Module) -> None:
    """Add the module's weights to finalists if they rank among the best size scores."""
    if size < 1 or (len(finalists) >= size and score <= finalists[-1][0]):
        return
    finalists.append([score, epoch, copy.deepcopy(module.state_dict())])
    # Stable sort: of equal scores the earlier checkpoint ranks first.
    finalists.sort(key=lambda finalist: -finalist[0])
    del finalists[size:]


def confirm_finalists(module: torch.nn.Module, finalists: list,
                      confirm: Callable[[], float]):
    """
    Score each finalist's weights with confirm(); return the best (weights, epoch, record).

    The record lists [epoch, first score, confirming score] per finalist, best first score
    first. Ties in the confirming score go to the better first score.
    """
    record, best = [], None
    for score, epoch, state in finalists:
        module.load_state_dict(state)
        module.eval()
        confirmed = float(confirm())
        logger.info('finalist epoch %d: %.4g, confirmed %.4g', epoch, score, confirmed)
        record.append([epoch, score, confirmed])
        if best is None or confirmed > best[0]:
            best = (confirmed, epoch, state)
    return best[2], best[1], record
