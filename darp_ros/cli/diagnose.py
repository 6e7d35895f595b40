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

"""`darp diagnose`: where a bundle's neighbours come from, in training and in closed loop."""

import argparse

from darp_ros.cli.eval import write_json

ROWS = (('neighbours per query', 'neighbours_per_query', '.1f'),
        ('distinct demos per query', 'episodes_per_query', '.2f'),
        ('offset median', 'offset_median', '.3f'), ('offset p90', 'offset_p90', '.3f'),
        ('nearest median', 'nearest_median', '.3f'), ('nearest p90', 'nearest_p90', '.3f'),
        ("from the sample's episode", 'own_episode_share', '.1%'),
        ('adjacent frames (<= 2 steps)', 'adjacent_share', '.1%'),
        ('nearest demo switches per step', 'nearest_switch_share', '.1%'))


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `diagnose` subcommand."""
    parser = subparsers.add_parser(
        'diagnose', help="compare a bundle's training neighbours with those met in rollouts",
        description='Offsets (z-scored distances from query to kept neighbour), nearest '
                    'distances and where neighbours come from: in training (each '
                    "demonstration row's nearest other row; DARP: the neighbours it trained "
                    'with) and in closed loop (episodes from SEED; use tuning seeds).')
    parser.add_argument('--model', required=True, metavar='DIR', help='model bundle directory')
    parser.add_argument('--episodes', type=int, default=10,
                        help='rollout episodes (default %(default)s)')
    parser.add_argument('--seed', type=int, default=50_000,
                        help='environment seed of the first episode (default %(default)s, '
                             'the tuning range)')
    parser.add_argument('--horizon', type=int, help='steps per episode (default: per task)')
    parser.add_argument('--placement-scale', type=float, default=1.0,
                        help="robosuite: widen the objects' initial placement range by this "
                             "factor, as the benchmark's shift rows do (default %(default)s)")
    parser.add_argument('--json', metavar='OUT', help='write the figures as JSON here')
    parser.set_defaults(run=run)
    return parser


def _cell(figures, key: str, fmt: str) -> str:
    value = figures.get(key) if figures else None
    return '-' if value is None else format(value, fmt)


def table(training, rollout) -> str:
    """Two columns, training and closed loop, one row per figure."""
    lines = [f"{'':30} {'training':>10} {'closed loop':>12}"]
    for label, key, fmt in ROWS:
        lines.append(f'{label:30} {_cell(training, key, fmt):>10} {_cell(rollout, key, fmt):>12}')
    return '\n'.join(lines)


def sources_table(training, rollout) -> str:
    """Per observation key: its share of the nearest distance and its largest |z| p99."""
    from darp_ros.sim.retrieval_diagnostics import sources_by_key
    train, roll = sources_by_key(training.get('sources')), sources_by_key(rollout.get('sources'))
    lines = ['distance to the nearest demonstration state, by key:',
             f"{'':30} {'share':>10} {'':>12} {'|z| p99':>10} {'':>12}",
             f"{'':30} {'training':>10} {'closed loop':>12} {'training':>10} {'closed loop':>12}"]
    for key in sorted(roll, key=lambda k: -roll[k]['share']):
        t, r = train.get(key, {}), roll[key]
        lines.append(f"{key:30} {_cell(t, 'share', '.1%'):>10} {_cell(r, 'share', '.1%'):>12} "
                     f"{_cell(t, 'abs_z_p99', '.1f'):>10} {_cell(r, 'abs_z_p99', '.1f'):>12}")
    return '\n'.join(lines)


def _mean_switches(rollouts) -> str:
    shares = [r['nearest_switch_share'] for r in rollouts
              if r['nearest_switch_share'] is not None]
    return format(sum(shares) / len(shares), '.1%') if shares else '-'


def rollouts_line(rollouts) -> str:
    """How the rollouts ended, and the nearest-demonstration switches of the better ones."""
    if not rollouts:
        return 'no rollouts'
    if 'success' in rollouts[0]:
        won = [r for r in rollouts if r['success']]
        lost = [r for r in rollouts if not r['success']]
        return (f'rollouts: {len(won)}/{len(rollouts)} succeeded; nearest demo switches per '
                f'step {_mean_switches(won)} in those, {_mean_switches(lost)} in the others')
    ranked = sorted(rollouts, key=lambda r: r['return'], reverse=True)
    half = (len(ranked) + 1) // 2
    mean = sum(r['return'] for r in rollouts) / len(rollouts)
    return (f'rollouts: mean return {mean:.1f}; nearest demo switches per step '
            f'{_mean_switches(ranked[:half])} in the better half, '
            f'{_mean_switches(ranked[half:])} in the others')


def stages_table(stages) -> str:
    """Each staged reward's maximum within a rollout, averaged over all and the failed ones."""
    lines = ["how far the rollouts got (robosuite's staged rewards, each stage's maximum):",
             f"{'':30} {'all':>10} {'failed':>12}"]
    failed = stages['mean_max_failed'] or [None] * len(stages['names'])
    for name, every, lost in zip(stages['names'], stages['mean_max'], failed):
        lost = '-' if lost is None else format(lost, '.3f')
        lines.append(f'{name:30} {every:>10.3f} {lost:>12}')
    return '\n'.join(lines)


def run(args) -> int:
    """Compute both sides, print them side by side, write --json."""
    import torch
    from darp_ros.core.runtime import PolicyRuntime
    from darp_ros.sim.retrieval_diagnostics import rollout_neighbours, training_neighbours
    torch.set_num_threads(1)
    runtime = PolicyRuntime.load(args.model, 'cpu')
    rollout = rollout_neighbours(runtime, args.seed, args.episodes, args.horizon,
                                 args.placement_scale).to_dict()
    # The rollout's observations name the dimensions of robosuite's 'object' aggregate.
    training = training_neighbours(runtime, rollout['sources']['names']).to_dict()
    shift = f', placement x{args.placement_scale:g}' if args.placement_scale != 1 else ''
    print(f'{runtime.policy_name}: {args.episodes} episodes from seed {args.seed}{shift}; '
          'distances in z-scored state units')
    print(table(training, rollout))
    print(rollouts_line(rollout['rollouts']))
    if rollout['stages']:
        print(stages_table(rollout['stages']))
    print(sources_table(training, rollout))
    if args.json:
        write_json(args.json, {'model': args.model, 'policy': runtime.policy_name,
                               'seed': args.seed, 'episodes': args.episodes,
                               'placement_scale': args.placement_scale,
                               'training': training, 'closed_loop': rollout})
    return 0
