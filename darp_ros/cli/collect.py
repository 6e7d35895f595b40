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

"""`darp collect`: run a scripted expert in robosuite and save its successful episodes."""

import argparse
import json
from pathlib import Path
import sys

from darp_ros.cli.train import comma_list
from darp_ros.core.errors import DatasetError
from darp_ros.data.hdf5_writer import write_demos
from darp_ros.sim.tasks import task_names


def unit_interval(text: str) -> float:
    """Parse a number in [0, 1] (a --style-diversity)."""
    try:
        value = float(text)
    except ValueError:
        value = float('nan')
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f'expected a number in [0, 1], got {text!r}')
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `collect` subcommand."""
    parser = subparsers.add_parser(
        'collect', help='record scripted-expert demonstrations in robosuite',
        description='Run the scripted expert of a robosuite task from consecutive seeds, keep '
                    'the successful episodes and write them in the robomimic HDF5 layout with '
                    'the env_args that rebuild the environment.')
    parser.add_argument('--task', required=True, choices=task_names(), help='robosuite task')
    parser.add_argument('--episodes', type=int, required=True,
                        help='successful demonstrations to keep')
    parser.add_argument('--out', required=True, help='HDF5 file to write')
    parser.add_argument('--seed', type=int, default=0,
                        help='environment seed of the first attempt (default %(default)s)')
    parser.add_argument('--noise', type=float, default=0.05,
                        help="std of the noise added to the expert's arm actions, in units of "
                             'the controller input (default %(default)s)')
    parser.add_argument('--style-diversity', type=unit_interval, default=1.0,
                        help="scale of the ranges the expert's approach style is drawn from "
                             'each episode, in [0, 1]: 1 the full ranges, 0 one fixed '
                             'demonstrator (default %(default)s)')
    parser.add_argument('--cameras', type=comma_list, default=(),
                        help='cameras to record images from, e.g. agentview,robot0_eye_in_hand '
                             '(default: low-dim only)')
    parser.add_argument('--image-size', type=int, default=84,
                        help='camera image height and width (default %(default)s)')
    parser.add_argument('--workers', type=int, default=1,
                        help='parallel simulator processes (default %(default)s)')
    parser.add_argument('--json', help="write the expert's record (attempts, kept) here")
    parser.add_argument('--overwrite', action='store_true', help='replace --out when it exists')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Collect, write, and report attempts against kept episodes."""
    if Path(args.out).exists() and not args.overwrite:
        raise DatasetError(f'{args.out} already exists (pass --overwrite to replace it)')
    from darp_ros.sim.collect import collect_demos   # robosuite loads only when used
    result = collect_demos(args.task, args.episodes, args.seed, args.noise, args.cameras,
                           args.image_size, args.workers, progress=not args.no_progress,
                           style_diversity=args.style_diversity)
    ran = result.attempts - len(result.lost_seeds)
    summary = {'task': args.task, 'requested': args.episodes, 'kept': len(result.episodes),
               'attempts': result.attempts, 'successes': result.successes,
               'expert_success_rate': result.success_rate, 'noise': args.noise,
               'style_diversity': args.style_diversity,
               'seeds': [args.seed, args.seed + result.attempts - 1],
               'lost_seeds': result.lost_seeds, 'cameras': list(args.cameras)}
    if result.episodes:
        write_demos(args.out, result.episodes, result.env_args, overwrite=args.overwrite)
    print(f'{args.task}: kept {len(result.episodes)} of {args.episodes} requested; expert '
          f'succeeded in {result.successes}/{ran} attempts ({100 * result.success_rate:.1f}%)')
    if result.episodes:
        steps = sum(len(ep) for ep in result.episodes)
        print(f'wrote {args.out}: {len(result.episodes)} demos, {steps} steps')
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + '\n')
    if len(result.episodes) < args.episodes or result.lost_seeds:
        print(f'darp collect: error: only {len(result.episodes)} of {args.episodes} '
              'demonstrations were collected', file=sys.stderr)
        return 1
    return 0
