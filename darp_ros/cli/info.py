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

"""`darp info`: describe a model bundle from its manifest, without loading its weights."""

import argparse
import json
import sys

from darp_ros.core.bundle import load_bundle, read_manifest
from darp_ros.core.errors import BundleError, DarpError


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `info` subcommand."""
    parser = subparsers.add_parser(
        'info', help='describe a model bundle',
        description='Describe a model bundle from its bundle.json (weights are not loaded '
                    'unless --check is given).')
    parser.add_argument('bundle', metavar='DIR', help='model bundle directory')
    parser.add_argument('--json', action='store_true',
                        help='print bundle.json as JSON on stdout')
    parser.add_argument('--check', action='store_true',
                        help='also load the whole bundle on the CPU and report OK or the error')
    parser.set_defaults(run=run)
    return parser


def _value(value) -> str:
    # JSON spelling, as --set takes it back: true, null, [256, 256].
    return value if isinstance(value, str) else json.dumps(value)


def _encoder(encoder) -> str:
    if not encoder:
        return 'none'
    weights = encoder.get('weights') or {}
    parts = [str(weights.get('kind'))]
    if weights.get('path'):
        parts.append(str(weights['path']))
    if weights.get('sha256'):
        parts.append(f"sha256 {weights['sha256'][:12]}")
    if weights.get('seed') is not None:
        parts.append(f"seed {weights['seed']}")
    size = (encoder.get('preprocessing') or {}).get('size')
    if size:
        parts.append(f'{size} px input')
    return ', '.join(parts)


def kept_weights(training: dict) -> str:
    """Say which epoch's weights a bundle holds and why: last, lowest loss or closed loop."""
    report = training.get('report') or {}
    epochs = report.get('epochs_run')
    if not epochs:
        return 'no epochs trained'
    keep = ((training.get('options') or {}).get('train') or {}).get('keep', 'best')
    best, loss = report.get('best_epoch'), report.get('best_val_loss')
    kind = 'val loss' if (training.get('episodes') or {}).get('val') else 'training loss'
    lowest = f'lowest {kind} {loss:.5g} at epoch {best}' if loss is not None else ''
    if keep == 'last':
        return f'kept the last epoch ({epochs})' + (f'; {lowest}' if lowest else '')
    if keep == 'closed_loop':
        scores = {int(e): s for e, s in (report.get('notes') or {}).get('closed_loop_scores', [])}
        selection = training.get('selection') or {}
        score = f' {scores[best]:.4g}' if best in scores else ''
        first = (f'{len(scores)} scored, {selection.get("episodes")} tuning episodes from seed '
                 f'{selection.get("seed")}')
        finalists = (report.get('notes') or {}).get('finalists')
        if finalists:
            confirmed = max(finalist[2] for finalist in finalists)
            return (f'kept epoch {best} of {epochs}: best of the {len(finalists)} finalists '
                    f'({first}) rescored on {selection.get("confirm_episodes")} episodes '
                    f'from seed {selection.get("confirm_seed")}: {confirmed:.4g} (first '
                    f'score{score})')
        return f'kept epoch {best} of {epochs}: best closed-loop score{score} of {first}'
    return f'kept epoch {best} of {epochs}' + (f': {lowest}' if lowest else '')


def _training(training) -> str:
    if not training:
        return 'not recorded'
    episodes = training.get('episodes') or {}
    parts = [f"{len(episodes.get('train', []))} train / {len(episodes.get('val', []))} val "
             'episodes', kept_weights(training)]
    if training.get('seconds') is not None:
        parts.append(f"{training['seconds']:.1f} s on {training.get('device')}")
    return ', '.join(parts)


def summary(path, data: dict) -> list:
    """Readable lines describing a bundle manifest."""
    policy = data.get('policy') or {}
    config = policy.get('config') or {}
    action = data.get('action') or {}
    index = data.get('index') or {}
    rate = data.get('control_rate_hz')
    lines = [f'bundle:        {path}',
             f"format:        {data.get('format_version')} "
             f"(written by darp_ros {data.get('darp_ros_version')})",
             f"policy:        {policy.get('name')}"]
    lines += [f'  {name} = {_value(value)}' for name, value in sorted(config.items())]
    lines.append('observation:')
    for key in (data.get('observation') or {}).get('keys', []):
        lines.append(f"  {key.get('name')}: shape {tuple(key.get('shape', ()))}, "
                     f"{key.get('kind')}")
    lines += [f"state dim:     {data.get('state_dim')}",
              f"action dim:    {action.get('dim')}",
              f"encoder:       {_encoder(data.get('encoder'))}",
              f"index:         {index.get('kind')} ({index.get('backend')})",
              f"demos:         {data.get('num_samples')} rows from "
              f"{len(data.get('episode_names') or [])} episodes",
              f"control rate:  {'unknown' if rate is None else f'{rate:g} Hz'}",
              f"environment:   {(data.get('env_args') or {}).get('env_name', 'unknown')}",
              f"training:      {_training(data.get('training'))}"]
    return lines


def run(args) -> int:
    """Print the manifest summary (or JSON); with --check, load the bundle too."""
    data = read_manifest(args.bundle)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print('\n'.join(summary(args.bundle, data)))
    if args.check:
        try:
            load_bundle(args.bundle, device='cpu')
        except DarpError as exc:
            raise BundleError(f'check failed: {exc}') from None
        # With --json the report goes to stderr, so stdout stays one JSON document.
        print('check:         OK (loaded on cpu)', file=sys.stderr if args.json else sys.stdout)
    return 0
