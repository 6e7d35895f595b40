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


"""`darp sim`: the closed loop through ROS 2 (robosuite bridge + policy node) for N episodes."""

import argparse
import json
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `darp sim`."""
    parser = subparsers.add_parser(
        'sim', help='run a bundle closed loop through ROS 2 (bridge + policy node)',
        description='Run the robosuite bridge and the policy node as a ROS 2 graph over DDS '
                    '(in one process) for N episodes, and print the success rate, the '
                    'observation -> command latency and late cycles. Episode i uses '
                    'environment seed S+i, as darp eval does.')
    parser.add_argument('--model', required=True, metavar='DIR', help='model bundle directory')
    parser.add_argument('--episodes', type=int, default=50, help='episodes (default 50)')
    parser.add_argument('--seed', type=int, default=100_000,
                        help='seed of the first episode (default 100000)')
    parser.add_argument('--horizon', type=int, default=0,
                        help="steps per episode (default: the task's)")
    parser.add_argument('--mode', choices=('lockstep', 'realtime'), default='lockstep',
                        help='lockstep (deterministic, default) or realtime stepping')
    parser.add_argument('--placement-scale', type=float, default=1.0,
                        help='widen the initial object placement range (distribution shift)')
    parser.add_argument('--config', metavar='YAML',
                        help='policy node parameters (default config/sim.yaml)')
    parser.add_argument('--json', metavar='OUT', help='write the figures as JSON here')
    parser.add_argument('--record', metavar='DIR',
                        help='record the loop (observations, commands, episode outcomes, the '
                             "policy's actions and novelty) into a new rosbag2 (mcap) "
                             'directory, for darp bag-eval')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Run the loop, print the summary, write --json."""
    from darp_ros.ros.sim_runner import run_sim
    if args.episodes < 1:
        raise SystemExit('darp sim: --episodes must be at least 1')
    report = run_sim(args.model, args.episodes, args.seed, args.horizon, args.mode,
                     args.placement_scale, args.config, record=args.record)
    print(report.text())
    if report.bag:
        print(f'recorded the loop into {report.bag} (rosbag2, mcap)')
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + '\n')
    return 0
