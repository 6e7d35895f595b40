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
Two runs of any policies, episode by episode, training seed s with training seed s.

For a probe that is not DARP (paired_table.py pairs DARP with the rest): e.g. BC with
MCNN's output clip, run as MCNN with one memory, against tuned BC on the same seeds.

With --b-seed S every training seed of A is paired with B's seed S alone: for a policy
whose seeds are one policy (1-NN has no training seed; VINN's seeds can all choose the same
k and act alike), so that each of A's seeds meets it on the same episodes.

Usage: paired_runs.py A B [--b-seed S] (each a policy folder, e.g. tuned_stack50/Stack/n50/bc)
"""

import argparse
from pathlib import Path

from paired_table import CONDITIONS, one_run_for_every_seed, outcomes

from darp_ros.sim.paired import paired, seed_lead


def main() -> None:
    """One row per condition: only A solved, only B, both, McNemar, A's lead per seed."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    parser.add_argument('a', type=Path)
    parser.add_argument('b', type=Path)
    parser.add_argument('--b-seed', type=int, help="pair every seed of A with this seed of B")
    args = parser.parse_args()
    print('| initial states | paired episodes | only A | only B | both | exact McNemar | '
          'lead of A by training seed |')
    print('|---|---|---|---|---|---|---|')
    for condition, name in CONDITIONS.items():
        a, b = outcomes(args.a, condition), outcomes(args.b, condition)
        if args.b_seed is not None:
            b = one_run_for_every_seed(a, b, args.b_seed)
        pair = paired(a, b)
        if pair.episodes:
            print(f'| {name} | {pair.episodes} | {pair.only_a} | {pair.only_b} | {pair.both} | '
                  f'{pair.p_text()} | {seed_lead(a, b).text()} |')


if __name__ == '__main__':
    main()
