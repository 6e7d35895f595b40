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
The defaults trial: a study's candidate that is the policy as it ships.

A search of 20 draws need not come near a good configuration the policy already has (on
Stack with 10 demonstrations DARP's study kept a recipe that reported below DARP's
defaults). The defaults trial is trained and scored like any other trial, is tagged, and
stays outside the budget of drawn trials; every policy that asks for it gets one, so the
budget stays equal. It is a candidate for the recipe and for the finalists.
"""

from typing import Optional, Sequence

from darp_ros.core.errors import ConfigError
from darp_ros.core.policies.bc import BCConfig
from darp_ros.core.policies.darp import DARPConfig
from darp_ros.core.policies.mcnn import MCNNConfig
from darp_ros.core.policies.vinn import FALLBACK_K, VINNConfig
from darp_ros.core.training import TrainConfig
from darp_ros.sim.benchmark import BATCH_SIZE, training_epochs
from darp_ros.sim.time_limit import TimeLimit, typical_trial_seconds
from darp_ros.sim.tuning import DEFAULTS_TAG, objective, TuneOptions


def default_params(options: TuneOptions, rows: int) -> dict:
    """Return the policy's defaults as the study's parameters, clipped into its space."""
    epochs = min(options.max_epochs, training_epochs(
        rows, options.fixed_train.get('batch_size', BATCH_SIZE)))
    # What the flags add to a space: the default learning rate, no bound.
    added = {'lr': TrainConfig.lr} if options.search_lr else {}
    if options.search_bound:
        added['output_bound'] = 0.0
    if options.policy == 'darp':
        return {'k': max(10, min(DARPConfig.k, rows - 1)), 'history_len': DARPConfig.history_len,
                'history_decay': DARPConfig.history_decay,
                'history_keep_ratio': DARPConfig.history_keep_ratio, 'epochs': epochs, **added}
    if options.policy == 'bc':
        return {'width': BCConfig.hidden[0], 'epochs': epochs, **added,
                'lr': TrainConfig.lr}
    if options.policy == 'mcnn':
        return {'memory_fraction': MCNNConfig.memory_fraction, 'lam': MCNNConfig.lam,
                'epochs': epochs, 'lr': TrainConfig.lr}
    if options.policy == 'vinn':
        # Without held-out episodes (a trial has none) VINN falls back to this k.
        return {'k': min(FALLBACK_K, rows), 'temperature': VINNConfig.temperature}
    return {}


def defaults_trial(study):
    """Return the study's finished defaults trial, or None."""
    import optuna
    finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return next((t for t in finished if t.user_attrs.get(DEFAULTS_TAG)), None)


def run_defaults_trial(study, options: TuneOptions, episodes: Sequence, env_args: dict,
                       limit: Optional[TimeLimit] = None):
    """
    Run the defaults trial unless the study has it (finished or running); return it or None.

    None means another worker is running it, or limit expects it to end too late (then
    limit.refused says so). A defaults trial that fails is an error: the policy's own
    defaults should train, and a study cannot stand in for them.
    """
    import optuna
    state = optuna.trial.TrialState
    states = {t.state for t in study.get_trials(deepcopy=False) if t.user_attrs.get(DEFAULTS_TAG)}
    limit = limit or TimeLimit()
    if (not states & {state.COMPLETE, state.RUNNING}
            and limit.allows(typical_trial_seconds(study))):
        if state.WAITING not in states:     # else a killed run queued it: run that one
            rows = sum(len(ep.actions) for ep in episodes)
            study.enqueue_trial(default_params(options, rows), user_attrs={DEFAULTS_TAG: True})
        study.optimize(objective(options, episodes, env_args), n_trials=1,
                       catch=(ConfigError, FloatingPointError), show_progress_bar=False)
        if defaults_trial(study) is None:
            raise ConfigError(f'study {study.study_name}: the defaults trial failed; see the '
                              'log above')
    return defaults_trial(study)
