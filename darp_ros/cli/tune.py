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


"""`darp tune`: search a policy's hyper-parameters closed-loop on tuning seeds (Optuna)."""

import argparse
from pathlib import Path

from darp_ros.cli.train import comma_list, option
from darp_ros.core.device import DEVICES
from darp_ros.core.errors import ConfigError
from darp_ros.sim.seeds import REPORTING_SEED, TUNING_SEED


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `tune` subcommand."""
    parser = subparsers.add_parser(
        'tune', help='search hyper-parameters closed-loop on tuning seeds (Optuna, SQLite)',
        description='Each trial trains the policy with drawn hyper-parameters and scores it '
                    'closed-loop (mean return or success rate) on the tuning seeds. The study '
                    'lives in an SQLite file: run the same command again to resume it, or in '
                    'several processes (started a few seconds apart) to share its trials '
                    'among cores. The best trial is written as a recipe for '
                    '`darp train --recipe`.')
    parser.add_argument('--policy', required=True, choices=('bc', 'darp', 'mcnn', 'nn1', 'vinn'))
    parser.add_argument('--dataset', required=True, metavar='FILE.hdf5')
    parser.add_argument('--obs-keys', required=True, type=comma_list, metavar='KEY[,KEY...]')
    parser.add_argument('--study', required=True, metavar='DIR',
                        help='folder for study.db (the Optuna study), history.png and '
                             'recipe.json (the best trial)')
    parser.add_argument('--recipe', metavar='FILE.json',
                        help='write the recipe here instead of DIR/recipe.json (e.g. to keep '
                             "the best trial's and the best finalist's side by side)")
    parser.add_argument('--trials', type=int, default=20,
                        help='finished trials the study should hold; give every policy the '
                             'same number (default %(default)s)')
    parser.add_argument('--tune-seed', type=int, default=TUNING_SEED, metavar='S',
                        help=f'first tuning seed, below {REPORTING_SEED} (default %(default)s)')
    parser.add_argument('--tune-episodes', type=int, default=10, metavar='N',
                        help='episodes per trial, and of its checkpoint selection under '
                             'keep=closed_loop (default %(default)s)')
    parser.add_argument('--score-episodes', type=int, default=0, metavar='N',
                        help='score each trial on N tuning episodes that follow the '
                             "selection's, which picked no checkpoint (default 0: on the "
                             "selection's own, as the MuJoCo studies did)")
    parser.add_argument('--finalists', type=int, default=0, metavar='N',
                        help='train the best N candidates (trials of the budget, the '
                             'defaults trial) again and score them on fresh tuning episodes '
                             "(after the score's); the recipe is the best there (default 0: "
                             'the best trial as scored)')
    parser.add_argument('--confirm-episodes', type=int, default=50, metavar='N',
                        help="episodes of the finalists' second score (default %(default)s)")
    parser.add_argument('--confirm-train-seeds', type=int, default=1, metavar='N',
                        help="train each finalist with N training seeds (the trials' own, "
                             '--train-seed, and the N-1 after it) and keep the best mean '
                             "score: on one seed a recipe wins partly on that seed's luck "
                             '(default %(default)s)')
    parser.add_argument('--defaults-trial', action='store_true',
                        help="also train and score the policy's defaults, a candidate for the "
                             'recipe outside the --trials budget (give every policy one)')
    parser.add_argument('--stop-after', type=float, metavar='MINUTES',
                        help='start no trial or finalist that, at the pace of the finished '
                             'trials, would end later than MINUTES from now; run again to '
                             'resume (for sittings that end at a set time: a worker killed '
                             'mid-trial loses the trial)')
    parser.add_argument('--max-epochs', type=int, default=300, metavar='N',
                        help='upper end of the epochs range (default %(default)s)')
    parser.add_argument('--train-seed', type=int, default=0, metavar='S',
                        help='training seed of every trial (default %(default)s)')
    parser.add_argument('--set', dest='options', type=option, action='append', default=[],
                        metavar='NAME=VALUE', help='fix a policy option in every trial')
    parser.add_argument('--train-set', dest='train_options', type=option, action='append',
                        default=[], metavar='NAME=VALUE',
                        help='fix a training setting in every trial (e.g. batch_size=64, '
                             'weight_decay=1e-5, keep=closed_loop)')
    parser.add_argument('--search-lr', action='store_true',
                        help="also search the learning rate (1e-4..1e-2, log), as BC's and "
                             "MCNN's spaces do; for DARP, whose space (the authors') lacks it")
    parser.add_argument('--search-bound', action='store_true',
                        help='also search output_bound (BC, DARP: 0 = none, 0.5, 1, 2 z-units), '
                             "the bound MCNN's network carries")
    parser.add_argument('--env-kwargs', type=json_arg, metavar='JSON',
                        help="replace the dataset's env_kwargs")
    parser.add_argument('--device', choices=DEVICES, default='cpu')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.set_defaults(run=run)
    return parser


def json_arg(text: str) -> dict:
    """Parse a JSON object (shared with `darp eval`)."""
    from darp_ros.cli.eval import json_object
    return json_object(text)


def run(args) -> int:
    """Run or resume the study; write the history plot and the best recipe."""
    from darp_ros.data.hdf5 import read_demos
    from darp_ros.sim.defaults_trial import run_defaults_trial
    from darp_ros.sim.study_recipe import best_recipe, confirm_finalists, pending_candidates
    from darp_ros.sim.time_limit import TimeLimit
    from darp_ros.sim.tuning import plot_history, run_study, TuneOptions
    fixed_train = dict(args.train_options)
    for name in ('seed', 'progress'):
        if name in fixed_train:
            raise ConfigError(f'--train-set {name}: set per trial by darp tune, not fixable')
    options = TuneOptions(
        args.policy, args.obs_keys, args.trials, args.tune_seed, args.tune_episodes,
        max_epochs=args.max_epochs, train_seed=args.train_seed,
        fixed_config=dict(args.options), fixed_train=fixed_train, device=args.device,
        search_lr=args.search_lr, search_bound=args.search_bound,
        score_episodes=args.score_episodes,
        finalists=args.finalists, confirm_episodes=args.confirm_episodes,
        confirm_train_seeds=args.confirm_train_seeds,
        defaults_trial=args.defaults_trial)
    dataset = read_demos(args.dataset, args.obs_keys)
    env_args = dict(dataset.env_args or {})
    if args.env_kwargs is not None:
        env_args['env_kwargs'] = args.env_kwargs
    folder = Path(args.study)
    folder.mkdir(parents=True, exist_ok=True)
    name = f'{args.policy}-{Path(args.dataset).stem}'
    limit = TimeLimit(args.stop_after)
    study = run_study(options, dataset.episodes, env_args, f'sqlite:///{folder / "study.db"}',
                      name, progress=not args.no_progress, limit=limit)
    finished = [t for t in study.trials if t.value is not None]
    if not finished and not limit.refused:
        raise ConfigError(f'study {name}: no trial finished; see the log above')
    if options.defaults_trial:
        run_defaults_trial(study, options, dataset.episodes, env_args, limit)
    if finished:
        plot_history(study, folder / 'history.png')
    print(f'study:   {name} in {folder / "study.db"} ({len(finished)} finished trials)')
    if limit.refused:
        return stopped_for_time(args.stop_after)
    pending = pending_candidates(study, options)
    if pending and (options.finalists or options.defaults_trial):
        print(f'waiting for {" and ".join(pending)}: run this again once the other workers '
              'are done (no recipe written)')
        return 0
    if options.finalists:
        confirm_finalists(study, options, dataset.episodes, env_args, limit)
        if limit.refused:
            return stopped_for_time(args.stop_after)
    recipe = best_recipe(study, options)
    path = recipe.save(args.recipe or folder / 'recipe.json')
    print_choice(study, recipe.source)
    print(f'recipe:  {path} (use: darp train --recipe {path} ...)')
    print(f'history: {folder / "history.png"}')
    return 0


def stopped_for_time(minutes: float) -> int:
    """Say that --stop-after held the next piece of work back; a resumable stop, not an error."""
    print(f'stopped: the next trial or finalist would end after --stop-after {minutes:g} '
          'minutes; run this again to resume (no recipe written)')
    return 0


def print_choice(study, source: dict) -> None:
    """Print which trial the recipe is, and the finalists' two scores where they ran."""
    first, last = source['tune_seeds']
    label = 'kept' if 'finalists' in source else 'best'
    which = (', the defaults' if source['trial'] == source.get('defaults_trial') else
             f' of the first {source["trials"]} finished')
    print(f'{label}:    trial {source["trial"]}{which}, score {source["score"]:.4g} on tuning '
          f'seeds {first}..{last}')
    if 'finalists' in source:
        first, last = source['confirm_seeds']
        finalists = ', '.join(f'trial {number} {score:.4g} -> {confirmed:.4g}'
                              for number, score, confirmed in source['finalists'])
        seeds = source.get('confirm_train_seeds', [source['train_seed']])
        trained = (f'training seed {seeds[0]}' if len(seeds) == 1 else
                   f'the mean of training seeds {seeds[0]}..{seeds[-1]}')
        print(f'finalists, scored again on tuning seeds {first}..{last} ({trained}): '
              f'{finalists}')
    print(f'params:  {study.trials[source["trial"]].params}')
