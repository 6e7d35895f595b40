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
How much of each policy's success survives placement x1.5, and DARP's lead at both.

Under placement x1.5 the objects start in a range half as wide again as the one the
demonstrations were collected in, so the rollouts meet states further from the data: the
case DARP's offsets are for. Per (task, demos, policy): the success rate on the nominal
initial states and under x1.5 (means over training seeds), the share of the nominal rate
kept under x1.5, DARP's lead over the policy (difference of the means) at each, and how
much the lead grows under x1.5 per training seed (seed s of DARP against seed s of the
other; a policy with one run, such as 1-NN, against every DARP seed) with the 95% t
interval of its mean over the seeds. Episode-level tests of the leads themselves:
paired_table.py on the same folders.

Usage: shift_table.py DIR [--darp-from OTHER] [--fill-from OTHER ...] (as paired_table.py)
"""

import argparse
from pathlib import Path
from statistics import mean

from paired_table import merged_cells, one_run_for_every_seed

from darp_ros.sim.paired import seed_lead, SeedLead

NOMINAL, SHIFTED = 'nominal', 'placement x1.5'


def rate(runs: dict) -> float:
    """Mean over training seeds of one policy's success rate, in percent."""
    seeds = {seed for seed, _ in runs}
    return mean(100.0 * mean(runs[key] for key in runs if key[0] == seed) for seed in seeds)


def lead_growth(nominal: dict, shifted: dict, policy: str) -> SeedLead:
    """DARP's lead over policy under x1.5 minus its lead on the nominal starts, per seed."""
    leads = []
    for runs in (nominal, shifted):
        darp, other = runs['darp'], runs[policy]
        seeds = {seed for seed, _ in other}
        if len(seeds) == 1:
            other = one_run_for_every_seed(darp, other, seeds.pop())
        leads.append(seed_lead(darp, other).leads)
    at_nominal, at_shift = leads
    return SeedLead({seed: at_shift[seed] - at_nominal[seed]
                     for seed in at_nominal.keys() & at_shift.keys()})


def main() -> None:
    """One row per (task, demos, policy) that ran under both initial-state ranges."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    parser.add_argument('dir', type=Path)
    parser.add_argument('--darp-from', type=Path, help="take DARP's runs from this folder")
    parser.add_argument('--fill-from', type=Path, action='append', default=[],
                        help='take the policies DIR lacks in a cell from this folder')
    args = parser.parse_args()
    cells = merged_cells(args.dir, args.fill_from, args.darp_from)
    print('| task | demos | policy | nominal | placement x1.5 | kept under x1.5 | '
          "DARP's lead: nominal, x1.5 | growth of the lead by training seed |")
    print('|---|---|---|---|---|---|---|---|')
    for task, demos in sorted({(task, demos) for task, demos, _ in cells}):
        nominal, shifted = cells.get((task, demos, NOMINAL), {}), cells.get(
            (task, demos, SHIFTED), {})
        rates = {policy: (rate(nominal[policy]), rate(shifted[policy]))
                 for policy in sorted(nominal.keys() & shifted.keys())}
        for policy, (at_nominal, at_shift) in rates.items():
            kept = f'{at_shift / at_nominal:.2f}' if at_nominal else '-'
            lead = growth = '-'
            if policy != 'darp' and 'darp' in rates:
                lead = (f'{rates["darp"][0] - at_nominal:+.0f}, '
                        f'{rates["darp"][1] - at_shift:+.0f}')
                growth = lead_growth(nominal, shifted, policy).text()
            print(f'| {task} | {demos} | {policy} | {at_nominal:.0f}% | {at_shift:.0f}% | '
                  f'{kept} | {lead} | {growth} |')


if __name__ == '__main__':
    main()
