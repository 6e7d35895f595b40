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


"""`darp bench`: per-step latency of the runtime object by stage, or of the node over DDS."""

import argparse
import json
from pathlib import Path

from darp_ros.core.errors import ConfigError


def _policies(text: str) -> tuple:
    return tuple(p.strip() for p in text.split(',') if p.strip())


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `bench` subcommand."""
    parser = subparsers.add_parser(
        'bench', help='per-step latency by stage: BC, VINN and DARP side by side',
        description='Time the runtime object step by step (median and p99 after a warm-up), '
                    'split into preprocess, encode, search, policy, novelty, postprocess and '
                    'safety; or, with --node, message in -> command out through the policy '
                    'node over DDS on loopback. --render prints saved --json files as '
                    'markdown tables.')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--model', metavar='DIR', help='bench this model bundle')
    source.add_argument('--synthetic', action='store_true',
                        help='random-weight policies over synthetic rows (the default)')
    source.add_argument('--render', nargs='+', metavar='JSON',
                        help='print these saved results as markdown and exit')
    parser.add_argument('--index-size', type=int, nargs='+', default=[100_000], metavar='N',
                        help='synthetic demonstration rows (default %(default)s)')
    parser.add_argument('--index-type', nargs='+', default=['flat'], metavar='TYPE',
                        help='flat, ivf, hnsw or torch (exact, in torch) (default flat)')
    parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'),
                        help='device of encoder, policy and index (default %(default)s)')
    parser.add_argument('--cameras', type=int, default=0,
                        help='synthetic cameras (default %(default)s)')
    parser.add_argument('--image-size', type=int, default=84,
                        help='camera images are SxS, encoded at that size (default %(default)s)')
    parser.add_argument('--low-dim', type=int, default=19,
                        help='width of the low-dim observation (default %(default)s)')
    parser.add_argument('--policies', type=_policies, default=('bc', 'vinn', 'darp'),
                        help='comma-separated policies (default bc,vinn,darp)')
    parser.add_argument('--steps', type=int, default=1000,
                        help='timed steps per policy (default %(default)s)')
    parser.add_argument('--warmup', type=int, default=50,
                        help='untimed steps first (default %(default)s)')
    parser.add_argument('--threads', type=int, default=1,
                        help="torch and faiss CPU threads, as the node's cpu_threads "
                             '(default %(default)s)')
    parser.add_argument('--recall-k', type=int, default=0, metavar='K',
                        help='also measure recall@K and speed of ivf/hnsw/torch against exact '
                             'search at each size (default: off)')
    parser.add_argument('--recall-queries', type=int, default=1000,
                        help='queries for --recall-k (default %(default)s)')
    parser.add_argument('--node', action='store_true',
                        help='measure through the policy node over DDS instead (one policy '
                             'at a time, one index size and type)')
    parser.add_argument('--rate', type=float, default=20.0,
                        help='--node: input sets per second (default %(default)s)')
    parser.add_argument('--json', metavar='OUT', help='write the results as JSON here')
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Measure (or render), print markdown, write --json."""
    from darp_ros.bench.report import markdown
    if args.render:
        for path in args.render:
            print(markdown(json.loads(Path(path).read_text(encoding='utf-8'))))
        return 0
    from darp_ros.bench.runner import BenchOptions, run_bundle, run_synthetic
    if args.model and args.policies != ('bc', 'vinn', 'darp'):
        raise ConfigError('--policies compares synthetic policies; a --model bundle has one')
    options = BenchOptions(
        index_sizes=tuple(args.index_size), index_types=tuple(args.index_type),
        policies=args.policies, device=args.device, cameras=args.cameras,
        image_size=args.image_size, low_dim=args.low_dim, steps=args.steps,
        warmup=args.warmup, threads=args.threads, recall_k=args.recall_k,
        recall_queries=args.recall_queries)
    if args.node:
        from darp_ros.ros.node_bench import run_node
        report = run_node(args.model, options, args.rate)
    elif args.model:
        report = run_bundle(args.model, options)
    else:
        report = run_synthetic(options)
    print(markdown(report))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + '\n', encoding='utf-8')
    return 0
