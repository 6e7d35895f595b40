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

from darp_ros.core.bundle import save_bundle
from darp_ros.core.config import config_from_dict
from darp_ros.core.device import DEVICES
from darp_ros.core.errors import BundleError, ConfigError
from darp_ros.core.index import INDEX_KINDS, IndexConfig
from darp_ros.core.pipeline import train_model, TrainOptions
from darp_ros.core.policies import policy_class, policy_names
from darp_ros.core.training import TrainConfig
from darp_ros.data.hdf5 import read_demos


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
    parser.add_argument('--policy', required=True, choices=policy_names(),
                        help='policy to train')
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
    train.add_argument('--epochs', type=int, default=TrainConfig.epochs, metavar='N',
                       help='most epochs to train (default %(default)s)')
    train.add_argument('--batch-size', type=int, default=TrainConfig.batch_size, metavar='N',
                       help='default %(default)s')
    train.add_argument('--lr', type=float, default=TrainConfig.lr,
                       help='learning rate (default %(default)s)')
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
    parser.add_argument('--keep', choices=('best', 'last'), default='best',
                        help="weights to keep: 'best' validation epoch (early stopping) or "
                             "'last' epoch (default %(default)s)")
    parser.add_argument('--overwrite', action='store_true',
                        help='replace --out when it exists')
    parser.set_defaults(run=run)
    return parser


def policy_config(args) -> dict:
    """Return the policy options given by --set and --k, checked against the policy's config."""
    config_class = policy_class(args.policy).config_class
    config = dict(args.options)
    if args.k is not None:
        if 'k' not in {f.name for f in dataclasses.fields(config_class)}:
            raise ConfigError(f'--k: policy {args.policy!r} has no k option')
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
    options = TrainOptions(
        policy=args.policy, obs_keys=args.obs_keys, policy_config=policy_config(args),
        train=TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                          seed=args.seed, keep=args.keep, progress=not args.no_progress),
        index=IndexConfig(kind=args.index), val_fraction=args.val_fraction, device=args.device,
        encoder_weights=args.encoder_weights, random_encoder=args.random_encoder,
        image_size=args.image_size)
    dataset = read_demos(args.dataset, args.obs_keys, filter_key=args.filter_key)
    model = train_model(dataset.episodes, options, dataset.env_args)
    out = save_bundle(model, args.out, overwrite=args.overwrite)
    training = model.training
    report = training['report']
    loss = report.get('best_val_loss')
    print(f'policy:   {args.policy}')
    print(f"samples:  {training['num_samples']}")
    print(f"episodes: {len(training['episodes']['train'])} train, "
          f"{len(training['episodes']['val'])} val")
    loss = 'n/a' if loss is None else format(loss, '.5g')
    if report.get('epochs_run'):
        print(f"best:     epoch {report['best_epoch']} of {report['epochs_run']}, "
              f'val loss {loss}')
    else:
        print(f'best:     no epochs to train, val loss {loss}')
    print(f"seconds:  {training['seconds']:.1f} on {training['device']}")
    print(f'saved:    {out}')
    return 0
