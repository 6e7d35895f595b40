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

"""`darp eval`: closed-loop success of a model bundle in the robosuite task it was trained on."""

import argparse
import json
from pathlib import Path

from darp_ros.core.device import DEVICES


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `eval` subcommand."""
    parser = subparsers.add_parser(
        'eval', help='evaluate a model bundle closed-loop in robosuite',
        description="Rebuild the environment from the bundle's env_args and run its policy "
                    'closed-loop; episode i starts from environment seed SEED+i.')
    parser.add_argument('--model', required=True, metavar='DIR', help='model bundle directory')
    parser.add_argument('--episodes', type=int, default=50,
                        help='episodes to run (default %(default)s)')
    parser.add_argument('--seed', type=int, default=100_000,
                        help='environment seed of the first episode (default %(default)s)')
    parser.add_argument('--workers', type=int, default=1,
                        help='parallel simulator processes (default %(default)s)')
    parser.add_argument('--horizon', type=int,
                        help='steps before an episode counts as failed (default: per task)')
    parser.add_argument('--placement-scale', type=float, default=1.0,
                        help="distribution shift: widen the objects' initial placement range "
                             'by this factor (default %(default)s)')
    parser.add_argument('--obs-noise', type=float, default=0.0,
                        help='distribution shift: std of Gaussian noise added to every '
                             'low-dim observation (default %(default)s)')
    parser.add_argument('--device', default='cpu', choices=DEVICES,
                        help='device for the policy (default %(default)s)')
    parser.add_argument('--json', metavar='OUT', help='write the figures as JSON here')
    parser.add_argument('--video', metavar='OUT.mp4', help='film the first episode')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Evaluate, print the summary, write --json and --video."""
    # Imported here so that `darp` starts without loading robosuite and MuJoCo.
    from darp_ros.sim.evaluate import EvalOptions, evaluate_bundle
    from darp_ros.sim.video import write_video
    options = EvalOptions(
        episodes=args.episodes, seed=args.seed, workers=args.workers, horizon=args.horizon,
        placement_scale=args.placement_scale, obs_noise=args.obs_noise, device=args.device,
        video_episode=0 if args.video else None, progress=not args.no_progress)
    report = evaluate_bundle(args.model, options)
    print(report.text())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + '\n')
    if args.video:
        filmed = [r for r in report.results if r.frames is not None]
        if filmed:
            path = write_video(args.video, filmed[0].frames, report.control_rate_hz)
            print(f'video: {path}')
    return 1 if report.lost_seeds else 0
