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

"""`darp train`: read HDF5 demonstrations, train a policy, save a model bundle."""

import argparse
import dataclasses
import json
from pathlib import Path

from darp_ros.cli.eval import json_object
from darp_ros.cli.info import kept_weights
from darp_ros.core.bundle import save_bundle
from darp_ros.core.config import config_from_dict
from darp_ros.core.device import DEVICES
from darp_ros.core.errors import BundleError, ConfigError
from darp_ros.core.index import INDEX_KINDS, IndexConfig
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.policies import policy_class, policy_names
from darp_ros.core.recipe import Recipe
from darp_ros.core.training import KEEP_CHOICES, TrainConfig
from darp_ros.data.hdf5 import read_demos
from darp_ros.sim.seeds import REPORTING_SEED, TUNING_SEED


def comma_list(text: str) -> tuple:
    """Parse 'a,b,c' into ('a', 'b', 'c'), dropping blanks."""
    keys = tuple(part.strip() for part in text.split(',') if part.strip())
    if not keys:
        raise argparse.ArgumentTypeError(f'expected KEY[,KEY...], got {text!r}')
    return keys


def option(text: str) -> tuple:
    """Parse NAME=VALUE; VALUE is JSON when it parses as JSON, else a string."""
    name, sep, raw = text.partition('=')
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f'expected NAME=VALUE, got {text!r}')
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `train` subcommand."""
    parser = subparsers.add_parser(
        'train', help='train a policy on HDF5 demonstrations and save a model bundle',
        description='Train a policy on robomimic-layout HDF5 demonstrations and save it as a '
                    'model bundle directory.')
    parser.add_argument('--policy', choices=policy_names(),
                        help='policy to train (or give --recipe)')
    parser.add_argument('--recipe', metavar='FILE.json',
                        help='policy, options and training settings from a recipe file '
                             '(`darp tune` writes one); flags given here override it')
    parser.add_argument('--dataset', required=True, metavar='FILE.hdf5',
                        help='demonstrations in the robomimic HDF5 layout')
    parser.add_argument('--obs-keys', required=True, type=comma_list, metavar='KEY[,KEY...]',
                        help='observation keys the policy sees, in feature order')
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='model bundle directory to write')
    parser.add_argument('--filter-key', metavar='KEY',
                        help='train only on the demos listed under mask/KEY in the file')
    parser.add_argument('--k', type=int, metavar='K',
                        help='neighbours per query, for policies with a k option (darp, vinn)')
    parser.add_argument('--set', dest='options', type=option, action='append', default=[],
                        metavar='NAME=VALUE',
                        help='set a policy option; VALUE is JSON when it parses '
                             '(e.g. hidden=[512,512], exclude_own_episode=true), else text; '
                             'repeatable')
    train = parser.add_argument_group('training')
    train.add_argument('--epochs', type=int, metavar='N',
                       help=f'most epochs to train (default {TrainConfig.epochs})')
    train.add_argument('--batch-size', type=int, metavar='N',
                       help=f'default {TrainConfig.batch_size}')
    train.add_argument('--lr', type=float,
                       help=f'learning rate (default {TrainConfig.lr})')
    train.add_argument('--weight-decay', type=float, metavar='WD',
                       help=f'AdamW weight decay (default {TrainConfig.weight_decay})')
    train.add_argument('--state-scale-floor', type=float, metavar='F',
                       help="floor each state dimension's z-scoring spread at F times the "
                            "median dimension's (default 0: each by its own spread; 1 keeps "
                            'a barely-moving quaternion component from dominating distances)')
    train.add_argument('--seed', type=int, default=TrainConfig.seed, metavar='S',
                       help='seed of the split, initialisation and shuffling '
                            '(default %(default)s)')
    train.add_argument('--val-fraction', type=float, default=TrainOptions.val_fraction,
                       metavar='F', help='share of episodes held out (default %(default)s)')
    train.add_argument('--device', choices=DEVICES, default=TrainOptions.device,
                       help='default %(default)s: the GPU when there is one')
    train.add_argument('--index', choices=INDEX_KINDS, default=IndexConfig.kind,
                       help='retrieval index structure (default %(default)s)')
    train.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    images = parser.add_argument_group('image observations')
    encoder = images.add_mutually_exclusive_group()
    encoder.add_argument('--encoder-weights', metavar='PATH',
                         help='ResNet-18 weights (torchvision or R3M file) for image keys')
    encoder.add_argument('--random-encoder', action='store_true',
                         help='use a randomly initialised image encoder (for testing)')
    images.add_argument('--image-size', type=int, default=TrainOptions.image_size, metavar='PX',
                        help='encoder input size in pixels (default %(default)s)')
    parser.add_argument('--keep', choices=KEEP_CHOICES,
                        help="weights to keep: 'best' validation epoch (early stopping), "
                             "'last' epoch, or 'closed_loop': the epoch that scored best in "
                             'the simulator on tuning seeds (default best)')
    select = parser.add_argument_group('closed-loop checkpoint selection (--keep closed_loop)')
    select.add_argument('--select-every', type=int, metavar='N',
                        help=f'roll out every N epochs (default {TrainConfig.select_every})')
    select.add_argument('--select-episodes', type=int, default=10, metavar='N',
                        help='episodes per roll-out (default %(default)s)')
    select.add_argument('--select-seed', type=int, default=TUNING_SEED, metavar='S',
                        help='first tuning seed; must stay below the reporting seeds '
                             f'{REPORTING_SEED}.. (default %(default)s)')
    select.add_argument('--select-finalists', type=int, metavar='N',
                        help='score the N best checkpoints again on fresh tuning seeds (the '
                             'ones after --select-episodes) and keep the best of that second '
                             'score (default 0: keep the best first score)')
    select.add_argument('--confirm-episodes', type=int, default=30, metavar='N',
                        help='episodes of that second score (default %(default)s)')
    select.add_argument('--env-kwargs', type=json_object, metavar='JSON',
                        help="replace the dataset's env_kwargs (recorded in the bundle), "
                             'e.g. {"xml_file": "walker2d.xml"}')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace --out when it exists')
    parser.set_defaults(run=run)
    return parser


def resolve_recipe(args) -> Recipe:
    """Return the recipe: --recipe's file under the flags given, or the flags alone."""
    recipe = Recipe.load(args.recipe) if args.recipe else None
    if recipe is None and not args.policy:
        raise ConfigError('give --policy, or a --recipe file that names one')
    if recipe is not None and args.policy and args.policy != recipe.policy:
        raise ConfigError(f'--policy {args.policy} contradicts the recipe {args.recipe}, '
                          f'which is for {recipe.policy}')
    name = args.policy or recipe.policy
    base = dict(recipe.policy_config) if recipe else {}
    return Recipe(name, {**base, **policy_config(args, name)},
                  dict(recipe.train) if recipe else {})


def policy_config(args, name: str) -> dict:
    """Return the policy options given by --set and --k, checked against the policy's config."""
    config_class = policy_class(name).config_class
    config = dict(args.options)
    if args.k is not None:
        if 'k' not in {f.name for f in dataclasses.fields(config_class)}:
            raise ConfigError(f'--k: policy {name!r} has no k option')
        if 'k' in config:
            raise ConfigError('give k either as --k or as --set k=..., not both')
        config['k'] = args.k
    config_from_dict(config_class, config)
    return config


def run(args) -> int:
    """Train and save; print a short summary."""
    # Checked before training so a taken --out fails in seconds, not after hours.
    if Path(args.out).exists() and not args.overwrite:
        raise BundleError(f'{args.out} already exists (pass --overwrite to replace it)')
    recipe = resolve_recipe(args)
    train = recipe.train_config(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                weight_decay=args.weight_decay, keep=args.keep,
                                select_every=args.select_every,
                                select_finalists=args.select_finalists,
                                state_scale_floor=args.state_scale_floor, seed=args.seed,
                                progress=not args.no_progress)
    options = TrainOptions(
        policy=recipe.policy, obs_keys=args.obs_keys, policy_config=recipe.policy_config,
        train=train,
        index=IndexConfig(kind=args.index), val_fraction=args.val_fraction, device=args.device,
        encoder_weights=args.encoder_weights, random_encoder=args.random_encoder,
        image_size=args.image_size)
    dataset = read_demos(args.dataset, args.obs_keys, filter_key=args.filter_key)
    env_args = dict(dataset.env_args or {})
    if args.env_kwargs is not None:
        env_args['env_kwargs'] = args.env_kwargs
    scorer = confirm = None
    if train.keep == 'closed_loop':
        # Imported here: the simulators load only when a run asks for them.
        from darp_ros.sim.selection import closed_loop_scorer
        scorer = closed_loop_scorer(env_args, args.select_seed, args.select_episodes)
        if train.select_finalists:
            confirm_seed = args.select_seed + args.select_episodes
            confirm = closed_loop_scorer(env_args, confirm_seed, args.confirm_episodes)
    model = train_model(dataset.episodes, options, env_args, scorer, confirm)
    if scorer is not None:
        model.training['selection'] = {'seed': args.select_seed,
                                       'episodes': args.select_episodes,
                                       'every': train.select_every}
        if confirm is not None:
            model.training['selection'].update(finalists=train.select_finalists,
                                               confirm_seed=confirm_seed,
                                               confirm_episodes=args.confirm_episodes)
    out = save_bundle(model, args.out, overwrite=args.overwrite)
    training = model.training
    print(f'policy:   {recipe.policy}')
    print(f"samples:  {training['num_samples']}")
    print(f"episodes: {len(training['episodes']['train'])} train, "
          f"{len(training['episodes']['val'])} val")
    print(f'weights:  {kept_weights(training)}')
    print(f"seconds:  {training['seconds']:.1f} on {training['device']}")
    print(f'saved:    {out}')
    return 0
