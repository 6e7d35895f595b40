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


"""Episode-by-episode comparison of two policies on the same environment seeds."""

from darp_ros.sim.paired import mcnemar_p, paired, seed_lead, T_95
import pytest
from scipy.stats import binomtest, t


@pytest.mark.parametrize('only_a,only_b', [(0, 0), (1, 0), (36, 10), (8, 10), (13, 13),
                                           (0, 12), (90, 38)])
def test_mcnemar_p_is_the_two_sided_binomial_test_of_the_discordant_episodes(only_a, only_b):
    n = only_a + only_b
    expected = binomtest(only_a, n, 0.5).pvalue if n else 1.0
    assert mcnemar_p(only_a, only_b) == pytest.approx(expected, rel=1e-9)
    assert mcnemar_p(only_b, only_a) == pytest.approx(expected, rel=1e-9)


def test_paired_counts_only_the_seeds_both_ran():
    a = {1: True, 2: True, 3: False, 4: False, 5: True}
    b = {1: True, 2: False, 3: True, 4: False, 6: True}    # 5 and 6: run by one side only
    pair = paired(a, b)
    assert (pair.only_a, pair.only_b, pair.both, pair.episodes) == (1, 1, 1, 4)
    assert pair.p_text() == 'p = 1.000'
    lopsided = paired(dict.fromkeys(range(20), True), dict.fromkeys(range(20), False))
    assert lopsided.only_a == 20 and lopsided.p_text() == 'p < 0.001'


@pytest.mark.parametrize('df', sorted(T_95))
def test_the_t_table_is_students_95_percent_quantile(df):
    assert T_95[df] == pytest.approx(t.ppf(0.975, df), abs=5e-4)


def test_seed_lead_is_the_rate_difference_per_training_seed_with_a_t_interval():
    # seed 0: A 3 of 4, B 1 of 4 (+50); seed 1: A 1 of 4, B 1 of 4 (0); seed 2: +25;
    # seed 3 only A ran: left out.
    a = {(0, e): e < 3 for e in range(4)} | {(1, e): e < 1 for e in range(4)}
    a |= {(2, e): e < 2 for e in range(4)} | {(3, e): True for e in range(4)}
    b = {(0, e): e < 1 for e in range(4)} | {(1, e): e < 1 for e in range(4)}
    b |= {(2, e): e < 1 for e in range(4)}
    lead = seed_lead(a, b)
    assert lead.leads == {0: 50.0, 1: 0.0, 2: 25.0}
    low, high = lead.interval
    expected = t.interval(0.95, 2, loc=25.0, scale=25.0 / 3 ** 0.5)
    assert (low, high) == pytest.approx(expected, abs=0.01)
    assert lead.text() == '+25 (50, 0, 25; 95% -37..+87)'
    one = seed_lead({(0, 1): True}, {(0, 1): False})
    assert one.interval is None and one.text() == '+100 (100)'
