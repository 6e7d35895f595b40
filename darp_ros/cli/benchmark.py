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

"""`darp benchmark`: demonstrations, five policies, closed-loop results into docs/RESULTS.md."""

import argparse
from pathlib import Path

from darp_ros.cli.collect import unit_interval
from darp_ros.cli.train import comma_list
from darp_ros.sim.selection import Selection


def int_list(text: str) -> tuple:
    """Parse '10,50' into (10, 50)."""
    try:
        return tuple(int(part) for part in comma_list(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected N[,N...], got {text!r}') from None


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `benchmark` subcommand."""
    parser = subparsers.add_parser(
        'benchmark', help='run the DARP-vs-baselines closed-loop benchmark',
        description='Collect expert demonstrations, train every policy on the first N of them '
                    'with fixed defaults, evaluate closed-loop on held-out seeds (nominal and '
                    'with widened initial placement), and write the tables and plot. Finished '
                    'stages are kept under --out and skipped on a re-run.')
    parser.add_argument('--out', default='benchmark_runs', help='run directory')
    parser.add_argument('--tasks', type=comma_list, default=('Lift', 'Stack', 'PickPlaceCan'))
    parser.add_argument('--demos', type=int_list, default=(10, 50),
                        help='demonstration counts (default 10,50)')
    parser.add_argument('--policies', type=comma_list,
                        default=('bc', 'vinn', 'nn1', 'mcnn', 'darp'))
    parser.add_argument('--episodes', type=int, default=100, help='episodes per evaluation')
    parser.add_argument('--seed', type=int, default=100_000,
                        help='first reporting seed (default %(default)s)')
    parser.add_argument('--style-diversity', type=unit_interval, default=1.0,
                        help="scale of the expert's style ranges in the demonstrations, in "
                             '[0, 1] (1: full, 0: one demonstrator; default %(default)s)')
    parser.add_argument('--shift-placement', type=float, default=1.5,
                        help='placement widening of the distribution-shift rows (1: none)')
    parser.add_argument('--workers', type=int, default=2, help='simulator processes')
    parser.add_argument('--recipe', dest='recipes', action='append', default=[],
                        metavar='FILE.json',
                        help="train the recipe's policy column with this recipe (from "
                             '`darp tune`) instead of the default settings; repeatable')
    parser.add_argument('--train-seeds', type=int_list, default=(0,),
                        help='training seeds per cell (default 0); nn1 runs the first only')
    parser.add_argument('--state-scale-floor', type=float, metavar='F',
                        help="floor every state dimension's z-scoring spread at F times the "
                             "median dimension's, for every policy (default: each dimension "
                             'by its own spread)')
    select = parser.add_argument_group(
        'closed-loop checkpoint selection on the tuning seeds, the same for every policy')
    select.add_argument('--keep', choices=('last', 'closed_loop'), default='last',
                        help="'last' epoch (default) or the 'closed_loop' best")
    select.add_argument('--select-scored', type=int, default=Selection.scored, metavar='N',
                        help='checkpoints scored per training run (default %(default)s)')
    select.add_argument('--select-episodes', type=int, default=Selection.episodes,
                        metavar='N', help='tuning episodes per score (default %(default)s)')
    select.add_argument('--select-finalists', type=int, default=Selection.finalists,
                        metavar='N', help='best checkpoints scored again on fresh tuning '
                                          'episodes (default %(default)s)')
    select.add_argument('--confirm-episodes', type=int, default=Selection.confirm_episodes,
                        metavar='N', help='episodes of that second score (default %(default)s)')
    parser.add_argument('--results', default='docs/RESULTS.md',
                        help='markdown file whose generated section is rewritten')
    parser.add_argument('--report-only', action='store_true',
                        help='only rewrite the tables and plot from finished evaluations')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Run the missing stages, then rewrite the results section and plot."""
    from darp_ros.sim.benchmark import BenchmarkPlan, collect_results, run_benchmark
    selection = None
    if args.keep == 'closed_loop':
        selection = Selection(args.select_scored, args.select_episodes, args.select_finalists,
                              args.confirm_episodes)
    from darp_ros.sim.results_report import latency_table, plot_success, results_tables, \
        update_results_md
    plan = BenchmarkPlan(Path(args.out), args.tasks, args.demos, args.policies, args.episodes,
                         args.seed, style_diversity=args.style_diversity,
                         shift_placement=args.shift_placement, workers=args.workers,
                         recipes=tuple(args.recipes), train_seeds=args.train_seeds,
                         selection=selection, state_scale_floor=args.state_scale_floor)
    if not args.report_only:
        run_benchmark(plan)
    rows = collect_results(plan.out, plan.tasks)
    if not rows:
        print(f'no finished evaluations under {plan.out}')
        return 1
    results = Path(args.results)
    plot = plot_success(rows, plan.policies, results.parent / 'results' / 'success_vs_demos.png')
    update_results_md(results, '\n\n'.join([
        results_tables(rows, plan.policies),
        f'![success vs demonstrations]({plot.relative_to(results.parent)})',
        '### Policy step latency during these evaluations (CPU, one thread per worker)',
        latency_table(rows, plan.policies)]))
    print(f'wrote {results} and {plot} from {len(rows)} evaluations')
    return 0
