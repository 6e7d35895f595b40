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


"""`darp bench` on the command line: a tiny run, its JSON, rendering, and user errors."""

import json

from darp_ros.bench.step_bench import STAGES, TOTALS
from darp_ros.cli.main import main
import pytest

TINY = ('--index-size', '200', '--low-dim', '3', '--steps', '3', '--warmup', '1')

pytestmark = pytest.mark.usefixtures('restore_darp_logging')


def test_bench_writes_every_stage_of_every_policy_and_renders_it(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    assert main(['-q', 'bench', *TINY, '--json', str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    run, = report['runs']
    assert list(run['policies']) == ['bc', 'vinn', 'darp']
    for result in run['policies'].values():
        assert set(result['stages']) == set(STAGES) and set(result['totals']) == set(TOTALS)
        assert 0 < result['totals']['total']['median_ms'] < 10_000
    assert 'darp bench --index-size 200' in printed and '| darp |' in printed
    assert main(['bench', '--render', str(out)]) == 0
    assert capsys.readouterr().out == printed


@pytest.mark.parametrize('args, fragment', [
    (['--index-size', '0'], 'index size: expected an int >= 2, got 0'),
    (['--index-type', 'kd'], 'index type: expected one of'),
    (['--policies', 'bc,gpt'], 'policies: expected some of'),
    (['--steps', '0'], 'steps: expected an int >= 1, got 0'),
    (['--low-dim', '0'], 'expected --low-dim > 0 or --cameras > 0'),
])
def test_bad_arguments_exit_2_with_one_line(args, fragment, capsys):
    assert main(['bench', *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('darp bench: error: ') and fragment in err
    assert len(err.splitlines()) == 1
