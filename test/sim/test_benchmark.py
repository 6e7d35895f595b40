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

"""darp benchmark end to end on a tiny plan: cells, resume, and the generated results section."""

import json

from darp_ros.cli.main import main
from darp_ros.core.errors import ConfigError
from darp_ros.core.stats import wilson_interval
from darp_ros.sim.benchmark import collect_results, policy_variant
from darp_ros.sim.results_report import results_tables
import pytest


def test_tiny_benchmark_writes_results_and_resumes(tmp_path, capsys):
    out, results = tmp_path / 'runs', tmp_path / 'RESULTS.md'
    results.write_text('# Results\n\nHand-written analysis stays.\n')
    args = ['benchmark', '--out', str(out), '--tasks', 'Lift', '--demos', '2',
            '--policies', 'nn1', '--episodes', '2', '--workers', '1', '--results', str(results),
            '--state-scale-floor', '0.5']
    assert main(args) == 0
    cell = out / 'Lift' / 'n2' / 'nn1' / 'seed0'
    manifest = json.loads((cell / 'bundle.json').read_text())
    assert manifest['training']['options']['train']['state_scale_floor'] == 0.5
    nominal = json.loads((cell / 'eval.json').read_text())
    shifted = json.loads((cell / 'eval_shift.json').read_text())
    assert nominal['episodes'] == 2 and nominal['seeds'] == [100000, 100001]
    assert shifted['shift']['placement_scale'] == 1.5
    assert json.loads((out / 'Lift' / 'expert.json').read_text())['successes'] >= 2
    text = results.read_text()
    assert 'Hand-written analysis stays.' in text
    assert '| Lift | 2 | nominal |' in text and '| Lift | 2 | placement x1.5 |' in text
    assert (tmp_path / 'results' / 'success_vs_demos.png').stat().st_size > 1000
    # A re-run with the bundle gone finds every evaluation done and trains nothing.
    for path in sorted((cell / 'bundle').rglob('*'), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (cell / 'bundle').rmdir()
    capsys.readouterr()
    assert main(args) == 0
    assert not (cell / 'bundle').exists()
    assert (cell / 'eval.json').read_text() == json.dumps(nominal, indent=2) + '\n'


def test_results_are_keyed_by_the_cell_label_not_the_policy_name(tmp_path):
    for label, rate in (('darp', 0.5), ('darp+aggregator=set', 0.8)):
        cell = tmp_path / 'Lift' / 'n10' / label
        cell.mkdir(parents=True)
        (cell / 'eval.json').write_text(json.dumps({'policy': 'darp', 'success_rate': rate}))
    rows = collect_results(tmp_path, ['Lift'])
    assert {r['policy']: r['success_rate'] for r in rows} == {'darp': 0.5,
                                                              'darp+aggregator=set': 0.8}


def test_seeds_of_a_cell_pool_into_one_figure_and_differences_beyond_noise_are_marked(
        tmp_path):
    def write(policy, seed, successes, legacy=False):
        cell = tmp_path / 'Lift' / 'n10' / policy / ('' if legacy else f'seed{seed}')
        cell.mkdir(parents=True, exist_ok=True)
        (cell / 'eval.json').write_text(json.dumps(
            {'policy': policy, 'success_rate': successes / 100, 'episodes': 100,
             'seeds': [100000, 100099], 'wilson95': [0, 1]}))
    write('bc', 0, 40, legacy=True)     # a cell from before training seeds: seed 0
    write('bc', 1, 50)
    write('darp', 0, 80)
    write('darp', 1, 90)
    write('darp', 2, 70)
    write('nn1', 0, 45)
    rows = collect_results(tmp_path, ['Lift'])
    assert sorted((r['policy'], r['train_seed']) for r in rows) == [
        ('bc', 0), ('bc', 1), ('darp', 0), ('darp', 1), ('darp', 2), ('nn1', 0)]
    table = results_tables(rows, ['bc', 'darp', 'nn1'])
    row = next(line for line in table.splitlines() if line.startswith('| Lift | 10 |'))
    bc, darp, nn1 = (cell.strip() for cell in row.split('|')[4:7])
    low, high = wilson_interval(90, 200)
    assert bc == f'45% ±7 (40, 50) [{100 * low:.0f}-{100 * high:.0f}]'
    assert darp.startswith('80% ±10 (80, 90, 70) [') and darp.endswith('(>bc)')
    assert nn1.startswith('45% [') and not nn1.endswith(')')


def test_closed_loop_selection_applies_to_every_trained_policy(tmp_path):
    out, recipe = tmp_path / 'runs', tmp_path / 'bc.json'
    # A short training (the benchmark's rule gives 2000 epochs to 2 demonstrations).
    recipe.write_text(json.dumps({'format': 'darp_ros.recipe', 'policy': 'bc',
                                  'policy_config': {'hidden': [16, 16]},
                                  'train': {'epochs': 4, 'batch_size': 32}}))
    assert main(['benchmark', '--out', str(out), '--tasks', 'Lift', '--demos', '2',
                 '--policies', 'bc,nn1', '--episodes', '1', '--workers', '1',
                 '--shift-placement', '1', '--results', str(tmp_path / 'R.md'),
                 '--recipe', str(recipe),
                 '--train-seeds', '0,1', '--keep', 'closed_loop', '--select-scored', '2',
                 '--select-episodes', '1', '--select-finalists', '1',
                 '--confirm-episodes', '1']) == 0
    assert sorted(p.name for p in (out / 'Lift' / 'n2' / 'bc').iterdir()) == ['seed0', 'seed1']
    assert [p.name for p in (out / 'Lift' / 'n2' / 'nn1').iterdir()] == ['seed0']
    manifest = out / 'Lift' / 'n2' / 'bc' / 'seed1' / 'bundle' / 'bundle.json'
    # The manifest is kept beside the evaluations, where git keeps it (bundles it does not).
    assert (manifest.parent.parent / 'bundle.json').read_text() == manifest.read_text()
    training = json.loads(manifest.read_text())['training']
    assert training['options']['train']['seed'] == 1
    assert training['options']['train']['keep'] == 'closed_loop'
    assert training['episodes']['val'] == []
    notes = training['report']['notes']
    assert len(notes['closed_loop_scores']) == 2 and len(notes['finalists']) == 1
    assert training['selection'] == {'seed': 50000, 'episodes': 1,
                                     'every': training['options']['train']['select_every'],
                                     'finalists': 1, 'confirm_seed': 50001,
                                     'confirm_episodes': 1}


def test_policy_variants_carry_their_options():
    assert policy_variant('darp+aggregator=set+k=4') == ('darp', {'aggregator': 'set', 'k': 4})
    assert policy_variant('bc') == ('bc', {})
    with pytest.raises(ConfigError, match="'darp\\+k': expected POLICY\\+NAME=VALUE"):
        policy_variant('darp+k')


def test_a_recipe_replaces_its_policy_column_settings(tmp_path):
    recipe = tmp_path / 'bc.json'
    recipe.write_text(json.dumps({'format': 'darp_ros.recipe', 'policy': 'bc',
                                  'policy_config': {'hidden': [16, 16]},
                                  'train': {'epochs': 2, 'batch_size': 8}}))
    out = tmp_path / 'runs'
    assert main(['benchmark', '--out', str(out), '--tasks', 'Lift', '--demos', '2',
                 '--policies', 'bc', '--episodes', '1', '--workers', '1', '--shift-placement',
                 '1', '--results', str(tmp_path / 'R.md'), '--recipe', str(recipe)]) == 0
    manifest = json.loads((out / 'Lift' / 'n2' / 'bc' / 'seed0' / 'bundle' / 'bundle.json')
                          .read_text())
    assert manifest['policy']['config']['hidden'] == [16, 16]
    assert manifest['training']['options']['train']['epochs'] == 2
    assert manifest['training']['options']['train']['batch_size'] == 8


def test_a_recipe_for_a_policy_not_benchmarked_is_refused(tmp_path, capsys):
    recipe = tmp_path / 'darp.json'
    recipe.write_text(json.dumps({'format': 'darp_ros.recipe', 'policy': 'darp'}))
    assert main(['benchmark', '--out', str(tmp_path), '--tasks', 'Lift', '--policies', 'bc',
                 '--recipe', str(recipe)]) == 2
    assert 'not among the benchmark policies' in capsys.readouterr().err
