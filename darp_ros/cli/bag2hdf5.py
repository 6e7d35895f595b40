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


"""`darp bag2hdf5`: recordings (teleoperation, an earlier policy) into a training file."""

import argparse
import json
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `darp bag2hdf5`."""
    parser = subparsers.add_parser(
        'bag2hdf5', help='turn rosbag2 recordings into a robomimic-layout training file',
        description="Replay each bag through the policy node's input cache at the control "
                    'rate and keep every tick that has a complete observation and a recorded '
                    "command answering it; the command, mapped back through the config's "
                    'command mapping, is the action. One episode per bag, or per split. '
                    'The file is written whole or not at all.')
    parser.add_argument('--bag', required=True, action='append', metavar='PATH',
                        help='rosbag2 directory (repeat for several)')
    parser.add_argument('--config', required=True, metavar='YAML',
                        help='policy node parameters: topics -> observation keys, and the '
                             'command topic and mapping')
    parser.add_argument('--out', required=True, metavar='FILE.hdf5', help='file to write')
    parser.add_argument('--episode-split', default='', metavar='TOPIC|SECONDS',
                        help='start a new episode after every message on TOPIC, or where '
                             'the recorded commands pause longer than SECONDS (default: one '
                             'episode per bag)')
    parser.add_argument('--rate', type=float, default=0.0, metavar='HZ',
                        help="sample rate (default: the config's control_rate_hz)")
    parser.add_argument('--env-from', metavar='DIR|FILE.hdf5',
                        help='copy env_args (the simulator to evaluate in) from this bundle '
                             'or dataset, for recordings made in simulation')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing --out')
    parser.add_argument('--json', metavar='OUT', help='write the summary as JSON here')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Convert, print the summary, write --json."""
    from darp_ros.bags.conversion import convert_bags
    from darp_ros.control.node_parameters import read_parameter_file
    parameters = read_parameter_file(args.config)
    env_args = _env_args(args.env_from) if args.env_from else None
    report = convert_bags(args.bag, parameters, args.out, episode_split=args.episode_split,
                          rate_hz=args.rate, env_args=env_args, overwrite=args.overwrite)
    print(report.text())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + '\n')
    return 0


def _env_args(source: str) -> dict:
    from darp_ros.core.bundle import read_manifest
    from darp_ros.data.hdf5 import read_env_args
    if Path(source).is_dir():
        return dict(read_manifest(source)['env_args'])
    return read_env_args(source)
