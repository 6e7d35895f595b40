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


"""Gymnasium MuJoCo evaluation, closed-loop checkpoint selection and recipes, end to end."""

import json

from darp_ros.cli.main import main
from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.data.hdf5 import read_demos
from darp_ros.sim.gym_eval import evaluate_gym_bundle, evaluate_runtime, make_gym_env
from darp_ros.sim.retrieval_diagnostics import rollout_neighbours, sources_by_key, \
    switch_share, training_neighbours
from darp_ros.sim.selection import closed_loop_scorer
import numpy as np
import pytest

ENV = 'Hopper-v5'


@pytest.fixture(scope='module')
def bundles(hopper_data, tmp_path_factory):
    root = tmp_path_factory.mktemp('gym_bundles')
    out = {}
    for name, extra in [('bc', ['--epochs', '3']),
                        ('darp', ['--epochs', '2', '--k', '8', '--set', 'history_len=3',
                                  '--set', 'history_keep_ratio=0.5'])]:
        out[name] = root / name
        assert main(['-q', 'train', '--policy', name, '--dataset', str(hopper_data),
                     '--obs-keys', 'obs', '--out', str(out[name]), '--val-fraction', '0',
                     '--device', 'cpu', '--no-progress', *extra]) == 0
    return out


def one_by_one(runtime, seed, horizon):
    """Sum of rewards of one episode run by hand, outside the lockstep evaluator."""
    env = make_gym_env({'env_name': ENV})
    obs, _ = env.reset(seed=seed)
    runtime.reset()
    total = 0.0
    for _ in range(horizon):
        action = runtime.act({'obs': obs.astype(np.float32)})
        obs, reward, terminated, truncated, _ = env.step(np.clip(action, -1, 1))
        total += reward
        if terminated or truncated:
            break
    env.close()
    return total


@pytest.mark.parametrize('policy', ['bc', 'darp'])
def test_lockstep_returns_match_episodes_run_alone(bundles, policy):
    # DARP keeps a query history: a batch of rollouts must not leak into each other.
    runtime = PolicyRuntime.load(bundles[policy], 'cpu')
    report = evaluate_runtime(runtime, {'env_name': ENV}, 7, 3, horizon=60)
    alone = [one_by_one(runtime, seed, 60) for seed in (7, 8, 9)]
    assert [e.seed for e in report.episodes] == [7, 8, 9]
    np.testing.assert_allclose(report.returns, alone, rtol=1e-4)
    assert report.mean == pytest.approx(np.mean(alone), rel=1e-4)
    assert all(1 <= e.steps <= 60 for e in report.episodes)


def test_workers_give_the_same_returns_as_one_process(bundles):
    one = evaluate_gym_bundle(str(bundles['darp']), 3, 4, workers=1, horizon=40)
    two = evaluate_gym_bundle(str(bundles['darp']), 3, 4, workers=2, horizon=40)
    np.testing.assert_allclose(one.returns, two.returns, rtol=1e-5)


def test_darp_eval_cli_writes_returns_as_json(bundles, tmp_path, capsys):
    out = tmp_path / 'eval.json'
    assert main(['eval', '--model', str(bundles['bc']), '--episodes', '3', '--seed', '100000',
                 '--horizon', '50', '--json', str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures['env'] == ENV and figures['episodes'] == 3
    assert figures['seeds'] == [100000, 100002]
    returns = [e['return'] for e in figures['per_episode']]
    assert figures['return_mean'] == pytest.approx(np.mean(returns))
    assert figures['return_std'] == pytest.approx(np.std(returns))
    assert 'return' in capsys.readouterr().out


def test_env_kwargs_reach_the_environment(bundles, tmp_path):
    # Walker-style override on Hopper: a shorter healthy range ends episodes sooner.
    base = evaluate_gym_bundle(str(bundles['bc']), 0, 2, horizon=200)
    strict = evaluate_gym_bundle(str(bundles['bc']), 0, 2, horizon=200,
                                 env_args={'env_name': ENV,
                                           'env_kwargs': {'healthy_z_range': [1.2, 1.21]}})
    assert max(e.steps for e in strict.episodes) < min(e.steps for e in base.episodes)


def test_robosuite_only_options_are_refused_for_gymnasium(bundles, capsys):
    assert main(['eval', '--model', str(bundles['bc']), '--episodes', '1',
                 '--obs-noise', '0.1']) == 2
    assert '--obs-noise applies to robosuite tasks only' in capsys.readouterr().err


def test_a_bundle_that_does_not_fit_the_environment_is_named(bundles):
    with pytest.raises(ConfigError, match=r'bundle expects shape \(11,\), Walker2d-v5 gives'):
        evaluate_gym_bundle(str(bundles['bc']), 0, 1, env_args={'env_name': 'Walker2d-v5'})


def test_tuning_seeds_never_reach_the_reporting_seeds():
    with pytest.raises(ConfigError, match='kept for reporting'):
        closed_loop_scorer({'env_name': ENV}, 99_995, 10)


def test_train_keeps_the_checkpoint_that_scored_best_closed_loop(hopper_data, tmp_path):
    out = tmp_path / 'selected'
    assert main(['-q', 'train', '--policy', 'bc', '--dataset', str(hopper_data),
                 '--obs-keys', 'obs', '--out', str(out), '--val-fraction', '0', '--epochs', '4',
                 '--keep', 'closed_loop', '--select-every', '2', '--select-episodes', '2',
                 '--device', 'cpu', '--no-progress']) == 0
    training = json.loads((out / 'bundle.json').read_text())['training']
    scores = training['report']['notes']['closed_loop_scores']
    assert [epoch for epoch, _ in scores] == [2, 4]
    best_epoch, best_score = max(scores, key=lambda pair: pair[1])
    assert training['report']['best_epoch'] == best_epoch
    assert training['selection'] == {'seed': 50000, 'episodes': 2, 'every': 2}
    # The kept weights are the ones that scored best: rescoring them gives the same figure.
    rescored = evaluate_gym_bundle(str(out), 50000, 2)
    assert rescored.mean == pytest.approx(best_score, rel=1e-5)


def test_train_rescores_finalists_on_the_tuning_seeds_after_the_first(
        hopper_data, tmp_path, capsys):
    out = tmp_path / 'confirmed'
    assert main(['-q', 'train', '--policy', 'bc', '--dataset', str(hopper_data),
                 '--obs-keys', 'obs', '--out', str(out), '--val-fraction', '0', '--epochs', '4',
                 '--keep', 'closed_loop', '--select-every', '1', '--select-episodes', '2',
                 '--select-finalists', '2', '--confirm-episodes', '3',
                 '--device', 'cpu', '--no-progress']) == 0
    training = json.loads((out / 'bundle.json').read_text())['training']
    assert training['selection'] == {'seed': 50000, 'episodes': 2, 'every': 1, 'finalists': 2,
                                     'confirm_seed': 50002, 'confirm_episodes': 3}
    finalists = training['report']['notes']['finalists']
    scores = sorted((score for _, score in training['report']['notes']['closed_loop_scores']),
                    reverse=True)
    assert [first for _, first, _ in finalists] == scores[:2]
    kept_epoch, _, confirmed = max(finalists, key=lambda finalist: finalist[2])
    assert training['report']['best_epoch'] == kept_epoch
    # The kept weights are the finalist that confirmed best, on seeds 50002..50004.
    assert evaluate_gym_bundle(str(out), 50002, 3).mean == pytest.approx(confirmed, rel=1e-5)
    capsys.readouterr()
    assert main(['info', str(out)]) == 0
    assert (f'kept epoch {kept_epoch} of 4: best of the 2 finalists'
            in capsys.readouterr().out)


def test_recipe_file_drives_train_and_flags_override_it(hopper_data, tmp_path):
    recipe = tmp_path / 'recipe.json'
    recipe.write_text(json.dumps({
        'format': 'darp_ros.recipe', 'policy': 'darp',
        'policy_config': {'k': 6, 'history_len': 2, 'hidden': [32, 32]},
        'train': {'epochs': 2, 'batch_size': 16, 'weight_decay': 1e-5}}))
    out = tmp_path / 'from_recipe'
    assert main(['-q', 'train', '--recipe', str(recipe), '--dataset', str(hopper_data),
                 '--obs-keys', 'obs', '--out', str(out), '--val-fraction', '0', '--epochs', '1',
                 '--device', 'cpu', '--no-progress']) == 0
    manifest = json.loads((out / 'bundle.json').read_text())
    assert manifest['policy']['config']['k'] == 6
    assert manifest['policy']['config']['hidden'] == [32, 32]
    options = manifest['training']['options']['train']
    assert options['epochs'] == 1 and options['batch_size'] == 16
    assert options['weight_decay'] == 1e-5


@pytest.mark.parametrize('content,message', [
    ({'format': 'other'}, 'not a darp_ros recipe'),
    ({'format': 'darp_ros.recipe', 'policy': 'darp', 'train': {'epoch': 3}},
     "train settings \\['epoch'\\] are unknown"),
    ({'format': 'darp_ros.recipe', 'policy': 'darp', 'policy_config': {'kk': 3}},
     "unknown option\\(s\\) \\['kk'\\]"),
])
def test_a_bad_recipe_is_refused_naming_the_file(hopper_data, tmp_path, capsys, content,
                                                 message):
    recipe = tmp_path / 'bad.json'
    recipe.write_text(json.dumps(content))
    assert main(['train', '--recipe', str(recipe), '--dataset', str(hopper_data),
                 '--obs-keys', 'obs', '--out', str(tmp_path / 'x')]) == 2
    err = capsys.readouterr().err
    assert str(recipe) in err
    import re
    assert re.search(message, err)


def test_recipe_policy_and_flag_policy_must_agree(hopper_data, tmp_path, capsys):
    recipe = tmp_path / 'r.json'
    recipe.write_text(json.dumps({'format': 'darp_ros.recipe', 'policy': 'bc'}))
    assert main(['train', '--recipe', str(recipe), '--policy', 'darp', '--dataset',
                 str(hopper_data), '--obs-keys', 'obs', '--out', str(tmp_path / 'x')]) == 2
    assert 'contradicts the recipe' in capsys.readouterr().err


def test_dataset_round_trip_keeps_the_gym_env(hopper_data):
    assert read_demos(hopper_data, ('obs',)).env_args['env_name'] == ENV


def test_diagnose_reports_the_offsets_each_rollout_step_met(bundles):
    runtime = PolicyRuntime.load(bundles['darp'], 'cpu')
    stats = rollout_neighbours(runtime, 11, 1, horizon=6)
    # The same episode by hand: every step's kept neighbours and their distances.
    env = make_gym_env({'env_name': ENV})
    obs, _ = env.reset(seed=11)
    runtime.reset()
    distances, nearest, squared = [], [], 0
    memory, normalizer = runtime.model.memory, runtime.model.state_normalizer
    for _ in range(6):
        step = runtime.step({'obs': obs.astype(np.float32)})
        distances += [n.distance for n in step.neighbors]
        nearest.append(step.novelty)
        query = normalizer.normalize(obs.astype(np.float32))
        closest = memory.states.numpy()[np.argmin(
            np.linalg.norm(memory.states.numpy() - query, axis=1))]
        squared = squared + (query - closest) ** 2
        obs, _, terminated, _, _ = env.step(np.clip(step.action, -1, 1))
        if terminated:
            break
    env.close()
    assert stats.queries == len(nearest)
    assert stats.offset_median == pytest.approx(np.median(distances), rel=1e-5)
    assert stats.nearest_median == pytest.approx(np.median(nearest), rel=1e-5)
    assert stats.neighbours_per_query == runtime.model.policy.config.kept
    # Which dimensions that nearest distance is made of, summed over the steps.
    assert stats.sources['names'] == [f'obs[{i}]' for i in range(11)]
    np.testing.assert_allclose(stats.sources['share'], squared / squared.sum(), rtol=1e-3,
                               atol=1e-6)
    assert sources_by_key(stats.sources)['obs']['share'] == pytest.approx(1.0)


def test_diagnose_counts_switches_of_the_nearest_demonstration_within_each_rollout(bundles):
    runtime = PolicyRuntime.load(bundles['bc'], 'cpu')
    stats = rollout_neighbours(runtime, 20, 2, horizon=6)
    memory, normalizer = runtime.model.memory, runtime.model.state_normalizer
    switches = pairs = 0
    returns = []
    env = make_gym_env({'env_name': ENV})
    for seed in (20, 21):     # by hand: each rollout's nearest demonstration, step by step
        obs, _ = env.reset(seed=seed)
        runtime.reset()
        previous = None
        returns.append(0.0)
        for _ in range(6):
            query = normalizer.normalize(obs.astype(np.float32))
            row = np.argmin(np.linalg.norm(memory.states.numpy() - query, axis=1))
            if previous is not None:    # a new rollout's first step is no switch
                pairs += 1
                switches += int(memory.episodes[row] != previous)
            previous = memory.episodes[row]
            action = runtime.act({'obs': obs.astype(np.float32)})
            obs, reward, terminated, _, _ = env.step(np.clip(action, -1, 1))
            returns[-1] += reward
            if terminated:
                break
    env.close()
    assert stats.queries == pairs + 2
    # Each rollout's own figures, to set against how it went.
    assert [r['seed'] for r in stats.rollouts] == [20, 21]
    assert [r['return'] for r in stats.rollouts] == pytest.approx(returns)
    assert sum(r['steps'] for r in stats.rollouts) == stats.queries
    assert stats.nearest_switch_share == pytest.approx(switches / pairs)
    assert switch_share([[1, 1, 2], [3, 3]]) == pytest.approx(1 / 3)
    assert switch_share([[4]]) is None


def test_diagnose_counts_training_neighbours_from_the_samples_own_episode(hopper_data, tmp_path):
    shares = {}
    for exclude in ('false', 'true'):
        out = tmp_path / exclude
        assert main(['-q', 'train', '--policy', 'darp', '--dataset', str(hopper_data),
                     '--obs-keys', 'obs', '--out', str(out), '--val-fraction', '0',
                     '--device', 'cpu', '--no-progress', '--epochs', '1', '--k', '8',
                     '--set', f'exclude_own_episode={exclude}']) == 0
        runtime = PolicyRuntime.load(out, 'cpu')
        stats = training_neighbours(runtime)
        shares[exclude] = stats.own_episode_share
        assert stats.neighbours_per_query == runtime.model.policy.config.kept
        assert stats.queries == len(runtime.model.memory)
        assert 0 < stats.nearest_median <= stats.offset_median
    assert shares['true'] == 0.0
    assert shares['false'] > 0.5    # smooth controller: the nearest states are its own


def test_darp_diagnose_cli_prints_both_sides_and_writes_json(bundles, tmp_path, capsys):
    out = tmp_path / 'diag.json'
    assert main(['diagnose', '--model', str(bundles['bc']), '--episodes', '2', '--horizon', '5',
                 '--seed', '3', '--json', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'nearest median' in printed
    figures = json.loads(out.read_text())
    assert figures['policy'] == 'bc' and figures['episodes'] == 2
    memory = PolicyRuntime.load(bundles['bc'], 'cpu').model.memory
    assert figures['training']['queries'] == len(memory)
    # BC acts without neighbours: no offsets to report, only how far it strays.
    assert figures['closed_loop']['offset_median'] is None
    assert figures['closed_loop']['queries'] <= 10 and figures['closed_loop']['nearest_median'] > 0
    assert 'distance to the nearest demonstration state, by key' in printed
    assert 'rollouts: mean return' in printed
    assert len(figures['training']['sources']['share']) == memory.states.shape[1]


def test_diagnose_names_an_environment_the_bundle_does_not_fit(bundles):
    runtime = PolicyRuntime.load(bundles['darp'], 'cpu')
    runtime.model.env_args = {'env_name': 'Walker2d-v5'}
    with pytest.raises(ConfigError, match=r'bundle expects shape \(11,\), Walker2d-v5 gives'):
        rollout_neighbours(runtime, 0, 1, horizon=3)


def test_diagnose_refuses_a_placement_shift_for_a_gymnasium_bundle(bundles):
    runtime = PolicyRuntime.load(bundles['darp'], 'cpu')
    with pytest.raises(ConfigError, match='gymnasium environment Hopper-v5 has none'):
        rollout_neighbours(runtime, 0, 1, horizon=3, placement_scale=1.5)
    with pytest.raises(ConfigError, match='placement scale must be positive, found 0'):
        rollout_neighbours(runtime, 0, 1, horizon=3, placement_scale=0.0)
