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
`darp eval`: closed-loop success (robosuite) or return (gymnasium MuJoCo) of a model bundle.

The environment comes from the bundle's env_args; a registered gymnasium id such as
Hopper-v5 is scored by episode return, a robosuite task by success.
"""

import argparse
import json
from pathlib import Path

from darp_ros.core.device import DEVICES
from darp_ros.core.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `eval` subcommand."""
    parser = subparsers.add_parser(
        'eval', help='evaluate a model bundle closed-loop in robosuite or gymnasium MuJoCo',
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
                        help='steps before an episode counts as failed (default: per task; '
                             '1000 for gymnasium)')
    parser.add_argument('--env-kwargs', type=json_object, metavar='JSON',
                        help="gymnasium only: keyword arguments that replace the bundle's "
                             'env_kwargs, e.g. {"xml_file": "walker2d.xml"}')
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


def json_object(text: str) -> dict:
    """Parse a JSON object given on the command line."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f'not JSON: {exc}') from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f'expected a JSON object, got {text!r}')
    return value


def write_json(path: str, figures: dict) -> None:
    """Write figures as indented JSON, creating the folder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(figures, indent=2) + '\n')


def run_gym(args, env_args: dict) -> int:
    """Evaluate in gymnasium: returns, not successes."""
    from darp_ros.sim.gym_eval import evaluate_gym_bundle
    for name in ('video', 'placement_scale', 'obs_noise'):
        default = {'video': None, 'placement_scale': 1.0, 'obs_noise': 0.0}[name]
        if getattr(args, name) != default:
            raise ConfigError(f"--{name.replace('_', '-')} applies to robosuite tasks only")
    if args.env_kwargs is not None:
        env_args = {**env_args, 'env_kwargs': args.env_kwargs}
    report = evaluate_gym_bundle(args.model, args.seed, args.episodes, args.workers,
                                 args.horizon, args.device, env_args)
    print(report.text())
    if args.json:
        write_json(args.json, report.to_dict())
    return 0


def run(args) -> int:
    """Evaluate, print the summary, write --json and --video."""
    from darp_ros.core.bundle import read_manifest
    from darp_ros.sim.gym_eval import is_gymnasium
    env_args = read_manifest(args.model).get('env_args') or {}
    if is_gymnasium(env_args):
        return run_gym(args, env_args)
    if args.env_kwargs is not None:
        raise ConfigError('--env-kwargs applies to gymnasium environments only')
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
        write_json(args.json, report.to_dict())
    if args.video:
        filmed = [r for r in report.results if r.frames is not None]
        if filmed:
            path = write_video(args.video, filmed[0].frames, report.control_rate_hz)
            print(f'video: {path}')
    return 1 if report.lost_seeds else 0
