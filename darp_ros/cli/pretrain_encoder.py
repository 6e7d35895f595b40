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

"""`darp pretrain-encoder`: a frozen image encoder learned from the demonstrations."""

import argparse
from pathlib import Path

from darp_ros.cli.train import comma_list
from darp_ros.core.device import DEVICES, resolve_device
from darp_ros.core.encoder_pretraining import pretrain_encoder, PretrainConfig, save_encoder
from darp_ros.core.errors import ConfigError
from darp_ros.data.hdf5 import read_demos


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `pretrain-encoder` subcommand."""
    parser = subparsers.add_parser(
        'pretrain-encoder', help='pretrain a ResNet-18 encoder on demonstration images',
        description='Train ResNet-18 with a behavior-cloning objective on the images (and '
                    'low-dim state) of HDF5 demonstrations and save the trunk for '
                    '`darp train --encoder-weights`, which freezes it.')
    parser.add_argument('--dataset', required=True, help='HDF5 demonstrations with images')
    parser.add_argument('--image-keys', required=True, type=comma_list,
                        help='camera keys, e.g. agentview_image,robot0_eye_in_hand_image')
    parser.add_argument('--low-dim-keys', type=comma_list, default=(),
                        help='low-dim keys fed beside the images (not into the trunk)')
    parser.add_argument('--out', required=True, help='.safetensors file to write')
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=3e-4)
    parser.add_argument('--image-size', type=int, default=84,
                        help='input size, the same as `darp train --image-size`')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='auto', choices=DEVICES)
    parser.add_argument('--no-progress', action='store_true')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Pretrain, save, print the loss curve's ends."""
    if not args.out.endswith('.safetensors'):
        raise ConfigError(f'--out must end in .safetensors, found {args.out}')
    dataset = read_demos(args.dataset, (*args.image_keys, *args.low_dim_keys))
    config = PretrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                            image_size=args.image_size, seed=args.seed,
                            progress=not args.no_progress)
    state, report = pretrain_encoder(dataset.episodes, args.image_keys, args.low_dim_keys,
                                     config, resolve_device(args.device))
    report['dataset'] = str(args.dataset)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_encoder(args.out, state, report)
    losses = report['train_losses']
    print(f"pretrained on {report['samples']} samples, loss {losses[0]:.4f} -> "
          f"{losses[-1]:.4f} in {report['seconds']:.0f} s")
    print(f'saved:  {args.out}')
    print(f'use:    darp train ... --encoder-weights {args.out} --image-size {args.image_size}')
    return 0
