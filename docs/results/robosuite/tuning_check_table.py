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
The bound's tuning-seed check: `darp eval --json` files named POLICY_seedS_VARIANT.json.

Each file is one trained model on the same fresh tuning episodes; a row per policy and
variant (its seeds' successes and their mean), then each pair of rows episode by episode,
training seed s with training seed s.

Usage: tuning_check_table.py FOLDER (e.g. bounded_stack50/tuning_check)
"""

import argparse
from collections import defaultdict
from itertools import combinations
import json
from pathlib import Path

from darp_ros.sim.paired import paired


def runs(folder: Path) -> dict:
    """{(policy, variant): {training seed: {environment seed: solved}}}."""
    found = defaultdict(dict)
    for path in sorted(folder.glob('*_seed*_*.json')):
        policy, seed, variant = path.stem.split('_', 2)
        episodes = json.loads(path.read_text())['per_episode']
        found[policy, variant][int(seed[len('seed'):])] = {
            e['seed']: e['success'] for e in episodes}
    return found


def main() -> None:
    """Print the rows, then every pair's paired comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    parser.add_argument('folder', type=Path)
    found = runs(parser.parse_args().folder)
    print('| policy | variant | successes by training seed | mean |')
    print('|---|---|---|---|')
    for (policy, variant), seeds in sorted(found.items()):
        counts = [sum(seeds[s].values()) for s in sorted(seeds)]
        print(f'| {policy} | {variant} | {", ".join(map(str, counts))} | '
              f'{sum(counts) / len(counts):.1f} |')
    print('\n| A | B | paired episodes | only A | only B | both | exact McNemar |')
    print('|---|---|---|---|---|---|---|')
    for a, b in combinations(sorted(found), 2):
        shared = found[a].keys() & found[b].keys()      # training seeds both ran
        result = paired(*[{(s, k): v for s in shared for k, v in found[x][s].items()}
                          for x in (a, b)])
        print(f'| {" ".join(a)} | {" ".join(b)} | {result.episodes} | {result.only_a} | '
              f'{result.only_b} | {result.both} | {result.p_text()} |')


if __name__ == '__main__':
    main()
