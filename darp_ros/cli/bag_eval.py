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


"""`darp bag-eval`: how a model would have acted on a recording, open loop, before the robot."""

import argparse
import json
from pathlib import Path

from darp_ros.core.device import DEVICES
from darp_ros.core.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `darp bag-eval`."""
    parser = subparsers.add_parser(
        'bag-eval', help='replay a rosbag2 recording through a model, open loop',
        description="Replay a rosbag2 recording (sqlite3 or mcap) through the policy node's "
                    'input cache at the control rate, run the model on every complete '
                    'observation, and report what it would have commanded: clipping by the '
                    'safety limits, novelty, stale inputs, latency, and the per-element '
                    'error against the commands recorded in the bag.')
    parser.add_argument('--model', required=True, metavar='DIR', help='model bundle directory')
    parser.add_argument('--bag', required=True, metavar='PATH', help='rosbag2 directory')
    parser.add_argument('--config', metavar='YAML',
                        help="policy node parameters mapping topics to the model's inputs "
                             '(default config/sim.yaml)')
    parser.add_argument('--command-topic', metavar='TOPIC',
                        help="recorded commands to compare with (default: the config's "
                             'command topic when the bag has it; "" for none)')
    parser.add_argument('--rate', type=float, default=0.0, metavar='HZ',
                        help="tick rate (default: the config's control_rate_hz, else the "
                             "model's)")
    parser.add_argument('--device', default='cpu', choices=DEVICES,
                        help='device for the policy (default %(default)s)')
    parser.add_argument('--report', metavar='DIR',
                        help='write report.json, steps.csv, commands.png and novelty.png '
                             'into this new directory')
    parser.add_argument('--json', metavar='OUT', help='write the figures as JSON here')
    parser.add_argument('--episode-split', default='', metavar='TOPIC|SECONDS',
                        help="start the policy's history anew after every message on TOPIC, "
                             'or where the inputs pause longer than SECONDS (as the node '
                             'does on ~/reset; default: one episode per bag)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Evaluate, print the summary, write --report and --json."""
    from darp_ros.bags.evaluation import evaluate_bag
    from darp_ros.bags.report import write_report
    from darp_ros.control.node_parameters import read_parameter_file, shipped_config
    if args.report and Path(args.report).exists():
        raise ConfigError(f'{args.report} exists; give a new --report directory')
    parameters = read_parameter_file(args.config or shipped_config('sim.yaml'))
    report = evaluate_bag(args.model, args.bag, parameters, args.command_topic, args.rate,
                          args.device, progress=not args.no_progress,
                          episode_split=args.episode_split)
    print(report.text())
    if args.report:
        print(f'report: {write_report(report, args.report)}')
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + '\n')
    return 0
