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


"""`darp tune`: Optuna studies in SQLite, their budget, scoring seeds, finalists, time limit."""

import dataclasses
import itertools
import json

from darp_ros.cli.main import main
from darp_ros.core.errors import ConfigError
from darp_ros.sim.gym_eval import evaluate_gym_bundle
from darp_ros.sim.study_recipe import confirm_finalists
from darp_ros.sim.time_limit import TimeLimit
from darp_ros.sim.tuning import run_study, TuneOptions
import pytest


def test_tune_runs_a_resumable_optuna_study_and_writes_a_recipe(hopper_data, tmp_path, capsys):
    import optuna
    study_dir = tmp_path / 'study'
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
            '--set', 'hidden=[32,32]', '--train-set', 'batch_size=32', '--no-progress']
    assert main(args + ['--trials', '2']) == 0
    storage = f'sqlite:///{study_dir / "study.db"}'
    study = optuna.load_study(study_name='bc-hopper', storage=storage)
    assert len(study.trials) == 2
    # Resuming asks for one more: the two finished trials are kept, one more runs.
    assert main(args + ['--trials', '3']) == 0
    study = optuna.load_study(study_name='bc-hopper', storage=storage)
    finished = [t for t in study.trials if t.value is not None]
    assert len(study.trials) == 3 and len(finished) == 3
    # The resumed process draws afresh, not the first trial's parameters again.
    assert study.trials[2].params != study.trials[0].params
    assert (study_dir / 'history.png').stat().st_size > 1000
    recipe = json.loads((study_dir / 'recipe.json').read_text())
    best = study.best_trial
    assert recipe['train']['epochs'] == best.params['epochs']
    assert recipe['train']['batch_size'] == 32
    assert recipe['policy_config']['hidden'] == [best.params['width']] * 3
    assert recipe['source']['score'] == pytest.approx(best.value)
    assert recipe['source']['tune_seeds'] == [50000, 50001]
    # The tuned recipe trains and the trained policy scores what the trial scored.
    out = tmp_path / 'tuned'
    assert main(['-q', 'train', '--recipe', str(study_dir / 'recipe.json'), '--dataset',
                 str(hopper_data), '--obs-keys', 'obs', '--out', str(out), '--val-fraction',
                 '0', '--keep', 'last', '--device', 'cpu', '--no-progress']) == 0
    assert evaluate_gym_bundle(str(out), 50000, 2).mean == pytest.approx(best.value, rel=1e-4)
    # Asked for a smaller budget than it holds, the study's recipe is the best of its first
    # trials: what a study stopped there would have chosen. Nothing more runs.
    first_two = max(study.trials[:2], key=lambda t: t.value)
    assert main(args + ['--trials', '2']) == 0
    recipe = json.loads((study_dir / 'recipe.json').read_text())
    assert recipe['source']['trials'] == 2
    assert recipe['source']['trial'] == first_two.number
    assert recipe['source']['score'] == pytest.approx(first_two.value)
    assert len(optuna.load_study(study_name='bc-hopper', storage=storage).trials) == 3


def test_tune_scores_trials_on_episodes_the_selection_did_not_see(
        hopper_data, tmp_path, capsys):
    import optuna
    study_dir = tmp_path / 'study'
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
            '--set', 'hidden=[32,32]', '--train-set', 'keep=closed_loop',
            '--train-set', 'select_every=2', '--no-progress']
    assert main(args + ['--trials', '1', '--score-episodes', '3']) == 0
    best = optuna.load_study(study_name='bc-hopper',
                             storage=f'sqlite:///{study_dir / "study.db"}').best_trial
    recipe = json.loads((study_dir / 'recipe.json').read_text())
    assert recipe['source']['tune_seeds'] == [50002, 50004]
    # The trial's checkpoint was picked on seeds 50000..50001 and scored on 50002..50004:
    # the same training, with the same selection, reports that score there.
    out = tmp_path / 'tuned'
    assert main(['-q', 'train', '--recipe', str(study_dir / 'recipe.json'), '--dataset',
                 str(hopper_data), '--obs-keys', 'obs', '--out', str(out), '--val-fraction',
                 '0', '--select-episodes', '2', '--device', 'cpu', '--no-progress']) == 0
    assert evaluate_gym_bundle(str(out), 50002, 3).mean == pytest.approx(best.value, rel=1e-4)
    # Resuming the study with other score episodes is refused: its trials would not compare.
    capsys.readouterr()
    assert main(args + ['--trials', '2']) == 2
    assert 'scores its trials on 3 episodes from seed 50002' in capsys.readouterr().err


def test_tune_shares_its_trial_budget_with_a_worker_running_beside_it(hopper_data, tmp_path):
    import optuna
    study_dir = tmp_path / 'study'
    study_dir.mkdir()
    storage = f'sqlite:///{study_dir / "study.db"}'
    # Another worker on the same study holds one trial, still running.
    other = optuna.create_study(storage=storage, study_name='bc-hopper', direction='maximize')
    other.ask()
    assert main(['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys',
                 'obs', '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
                 '--set', 'hidden=[32,32]', '--trials', '3', '--no-progress']) == 0
    study = optuna.load_study(study_name='bc-hopper', storage=storage)
    states = [t.state.name for t in study.trials]
    # Two of the three trials ran here; the third is the other worker's.
    assert states.count('COMPLETE') == 2 and states.count('RUNNING') == 1


def test_tune_searches_darps_learning_rate_when_asked(hopper_data, tmp_path, capsys):
    import optuna
    args = ['-q', 'tune', '--policy', 'darp', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(tmp_path), '--tune-episodes', '1', '--max-epochs', '5', '--trials',
            '1', '--set', 'hidden=[16,16]', '--no-progress']
    # Fixing lr and searching it at once is refused, naming both.
    assert main(args + ['--search-lr', '--train-set', 'lr=1e-3']) == 2
    assert '--search-lr' in capsys.readouterr().err
    assert main(args + ['--search-lr']) == 0
    trial = optuna.load_study(study_name='darp-hopper',
                              storage=f'sqlite:///{tmp_path / "study.db"}').trials[0]
    assert 1e-4 <= trial.params['lr'] <= 1e-2
    recipe = json.loads((tmp_path / 'recipe.json').read_text())
    assert recipe['train']['lr'] == trial.params['lr']
    assert recipe['policy_config']['history_len'] == trial.params['history_len']


def test_tune_searches_the_output_bound_when_asked_and_the_defaults_trial_has_none(
        hopper_data, tmp_path, capsys):
    import optuna
    from darp_ros.sim.tuning import OUTPUT_BOUNDS
    args = ['-q', 'tune', '--dataset', str(hopper_data), '--obs-keys', 'obs', '--study',
            str(tmp_path), '--tune-episodes', '1', '--max-epochs', '5', '--trials', '1',
            '--set', 'hidden=[16,16]', '--no-progress', '--search-bound']
    # MCNN carries its own bound; a fixed bound and a searched one at once: refused by name.
    assert main(args + ['--policy', 'mcnn']) == 2
    assert 'output_bound' in capsys.readouterr().err
    assert main(args + ['--policy', 'bc', '--set', 'output_bound=1.0']) == 2
    assert '--search-bound' in capsys.readouterr().err
    assert main(args + ['--policy', 'bc', '--defaults-trial']) == 0
    trials = optuna.load_study(study_name='bc-hopper',
                               storage=f'sqlite:///{tmp_path / "study.db"}').trials
    drawn = next(t for t in trials if not t.user_attrs.get('defaults'))
    defaults = next(t for t in trials if t.user_attrs.get('defaults'))
    assert drawn.params['output_bound'] in OUTPUT_BOUNDS
    assert drawn.user_attrs['recipe']['policy_config']['output_bound'] == \
        drawn.params['output_bound']
    assert defaults.user_attrs['recipe']['policy_config']['output_bound'] == 0.0


def test_tune_refuses_reporting_seeds(hopper_data, tmp_path, capsys):
    assert main(['tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
                 '--study', str(tmp_path), '--tune-seed', '100000']) == 2
    assert 'kept for reporting' in capsys.readouterr().err


def test_tune_finalists_keep_the_trial_that_does_best_on_fresh_episodes(
        hopper_data, tmp_path, capsys):
    import optuna
    study_dir = tmp_path / 'study'
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '2', '--score-episodes', '2',
            '--max-epochs', '6', '--set', 'hidden=[32,32]', '--train-set', 'keep=closed_loop',
            '--train-set', 'select_every=2', '--trials', '3', '--no-progress']
    # Written beside the study's other recipe, not over it.
    recipe = tmp_path / 'finalists.json'
    finalists = ['--finalists', '2', '--confirm-episodes', '3', '--recipe', str(recipe)]
    assert main(args + finalists) == 0
    assert not (study_dir / 'recipe.json').exists()
    assert 'finalists, scored again on tuning seeds 50004..50006' in capsys.readouterr().out
    storage = f'sqlite:///{study_dir / "study.db"}'
    study = optuna.load_study(study_name='bc-hopper', storage=storage)
    top_two = sorted(study.trials, key=lambda t: -t.value)[:2]
    source = json.loads(recipe.read_text())['source']
    assert [number for number, _, _ in source['finalists']] == [t.number for t in top_two]
    assert source['confirm_seeds'] == [50004, 50006]
    kept = max(source['finalists'], key=lambda finalist: finalist[2])
    assert source['trial'] == kept[0] and source['confirmed'] == kept[2]
    # The kept finalist's recipe, trained again with the trial's selection, scores on the
    # confirming seeds what the study recorded: the finalists are the trials' own models.
    out = tmp_path / 'kept'
    assert main(['-q', 'train', '--recipe', str(recipe), '--dataset',
                 str(hopper_data), '--obs-keys', 'obs', '--out', str(out), '--val-fraction',
                 '0', '--select-episodes', '2', '--device', 'cpu', '--no-progress']) == 0
    assert evaluate_gym_bundle(str(out), 50004, 3).mean == pytest.approx(kept[2], rel=1e-4)
    # Confirming scores are kept in the study: a second run reuses them, trains nothing
    # again, and follows them (here one edited to put the other finalist first).
    other = next(number for number, _, _ in source['finalists'] if number != kept[0])
    study.set_user_attr('confirmed_50004_3', {str(kept[0]): -1.0, str(other): 1e9})
    assert main(args + finalists) == 0
    source = json.loads(recipe.read_text())['source']
    assert source['trial'] == other and source['confirmed'] == 1e9
    assert len(study.trials) == 3


def test_tune_finalists_rank_by_the_mean_over_training_seeds_and_reuse_the_first(
        hopper_data, tmp_path, capsys, monkeypatch):
    import optuna
    from darp_ros.sim import study_recipe
    study_dir = tmp_path / 'study'
    recipe = tmp_path / 'finalists.json'
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
            '--set', 'hidden=[32,32]', '--trials', '2', '--no-progress', '--finalists', '2',
            '--confirm-episodes', '3', '--recipe', str(recipe)]
    assert main(args) == 0
    study = optuna.load_study(study_name='bc-hopper',
                              storage=f'sqlite:///{study_dir / "study.db"}')
    one_seed = dict(study.user_attrs['confirmed_50002_3'])
    trained = []
    real_train = study_recipe.train_recipe

    def counted(*args):
        trained.append(args[-1])
        return real_train(*args)
    monkeypatch.setattr(study_recipe, 'train_recipe', counted)
    assert main(args + ['--confirm-train-seeds', '3']) == 0
    # The seed-0 confirmations of the first run stand; only seeds 1 and 2 are trained.
    assert sorted(trained) == [1, 1, 2, 2]
    stored = study.user_attrs['confirmed_50002_3']
    assert {key: stored[key] for key in one_seed} == one_seed
    source = json.loads(recipe.read_text())['source']
    assert source['confirm_train_seeds'] == [0, 1, 2]
    by_seed = source['confirmed_by_seed']
    for number, _, mean in source['finalists']:
        assert by_seed[str(number)][0] == one_seed[str(number)]
        assert mean == pytest.approx(sum(by_seed[str(number)]) / 3)
    # Training seeds do give other models: the scores of one finalist differ across seeds.
    assert any(len(set(scores)) > 1 for scores in by_seed.values())
    kept = max(source['finalists'], key=lambda finalist: finalist[2])
    assert source['trial'] == kept[0] and source['confirmed'] == kept[2]
    assert '(the mean of training seeds 0..2)' in capsys.readouterr().out


def test_tune_finalists_wait_for_a_trial_another_worker_is_running(
        hopper_data, tmp_path, capsys):
    import optuna
    study_dir = tmp_path / 'study'
    study_dir.mkdir()
    storage = f'sqlite:///{study_dir / "study.db"}'
    optuna.create_study(storage=storage, study_name='bc-hopper', direction='maximize').ask()
    assert main(['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys',
                 'obs', '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
                 '--set', 'hidden=[32,32]', '--trials', '2', '--finalists', '2',
                 '--no-progress']) == 0
    # One trial ran here; the other worker's may still win, so no finalist is scored yet.
    assert 'waiting for 2 finished trials' in capsys.readouterr().out
    assert not (study_dir / 'recipe.json').exists()
    study = optuna.load_study(study_name='bc-hopper', storage=storage)
    assert not any(name.startswith('confirmed_') for name in study.user_attrs)


def test_tune_refuses_confirming_seeds_that_reach_the_reporting_seeds(hopper_data, tmp_path,
                                                                      capsys):
    assert main(['tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
                 '--study', str(tmp_path), '--tune-seed', '99980', '--tune-episodes', '5',
                 '--finalists', '2', '--confirm-episodes', '30']) == 2
    assert 'tuning seeds 99985..100014 must lie in 0..99999' in capsys.readouterr().err


def test_tune_finalists_are_shared_with_a_worker_running_beside_it(hopper_data, tmp_path,
                                                                   monkeypatch):
    import threading
    import time

    import optuna
    from darp_ros.sim import study_recipe
    monkeypatch.setattr(study_recipe, 'POLL_SECONDS', 0.1)
    study_dir = tmp_path / 'study'
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
            '--set', 'hidden=[32,32]', '--trials', '2', '--no-progress', '--finalists', '2']
    assert main(args + ['--confirm-episodes', '1']) == 0
    study = optuna.load_study(study_name='bc-hopper',
                              storage=f'sqlite:///{study_dir / "study.db"}')
    best, other = sorted(study.trials, key=lambda t: -t.value)
    # Another worker claimed the best finalist and is training it: this one trains the
    # other finalist, then waits for the first's score instead of training it twice.
    study.set_user_attr('claims_50002_3', {str(best.number): time.time()})
    seen = []

    def the_other_worker():
        while str(other.number) not in study.user_attrs.get('confirmed_50002_3', {}):
            time.sleep(0.05)
        seen.append(dict(study.user_attrs['confirmed_50002_3']))
        time.sleep(0.3)
        scores = study.user_attrs['confirmed_50002_3']
        study.set_user_attr('confirmed_50002_3', {**scores, str(best.number): 123.0})
    worker = threading.Thread(target=the_other_worker)
    worker.start()
    assert main(args + ['--confirm-episodes', '3']) == 0
    worker.join(timeout=60)
    assert list(seen[0]) == [str(other.number)]
    source = json.loads((study_dir / 'recipe.json').read_text())['source']
    assert source['trial'] == best.number and source['confirmed'] == 123.0
    # A claim whose worker died lapses (after twice its trial's time and ten minutes):
    # another run takes the finalist over rather than waiting for ever.
    study.set_user_attr('claims_50002_4', {str(best.number): time.time() - 4000})
    run = threading.Thread(target=main, args=(args + ['--confirm-episodes', '4'],))
    run.start()
    run.join(timeout=120)
    assert not run.is_alive()
    assert set(study.user_attrs['confirmed_50002_4']) == {str(best.number), str(other.number)}


def test_tune_defaults_trial_is_a_candidate_outside_the_budget(hopper_data, tmp_path, capsys):
    import optuna
    study_dir = tmp_path / 'study'
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
            '--trials', '2', '--no-progress', '--defaults-trial']
    assert main(args + ['--finalists', '3', '--confirm-episodes', '1']) == 0
    study = optuna.load_study(study_name='bc-hopper',
                              storage=f'sqlite:///{study_dir / "study.db"}')
    assert len(study.trials) == 3
    defaults = [t for t in study.trials if t.user_attrs.get('defaults')]
    assert len(defaults) == 1
    # BC as it ships: width 256, lr 1e-3, and the benchmark's epochs rule capped by the space.
    assert defaults[0].params == {'width': 256, 'epochs': 6, 'lr': 1e-3}
    assert defaults[0].user_attrs['recipe']['policy_config']['hidden'] == [256, 256, 256]
    source = json.loads((study_dir / 'recipe.json').read_text())['source']
    assert source['trials'] == 2 and source['defaults_trial'] == defaults[0].number
    assert defaults[0].number in [number for number, _, _ in source['finalists']]
    # Run again: the budget of two drawn trials is full and the defaults trial is there,
    # so nothing more runs.
    assert main(args) == 0
    assert len(optuna.load_study(study_name='bc-hopper',
                                 storage=f'sqlite:///{study_dir / "study.db"}').trials) == 3


def test_a_time_limit_admits_work_while_it_would_end_in_time_and_then_nothing():
    now = [0.0]
    limit = TimeLimit(2, clock=lambda: now[0])      # ends 120 s from now
    assert limit.allows(100) and not limit.refused
    now[0] = 30.0
    assert not limit.allows(100) and limit.refused  # it would end at 130 s
    # A refusal is final: a worker that is stopping starts nothing shorter either.
    assert not limit.allows(1)
    assert TimeLimit().allows(1e9)
    for minutes in (-1, float('nan')):
        with pytest.raises(ConfigError, match='minutes >= 0'):
            TimeLimit(minutes)


def test_tune_stop_after_starts_no_trial_that_would_overrun_and_the_study_resumes(
        hopper_data, tmp_path, capsys):
    import optuna
    from darp_ros.data.hdf5 import read_demos
    study_dir = tmp_path / 'study'
    study_dir.mkdir()
    storage = f'sqlite:///{study_dir / "study.db"}'
    # The first trial ends and the clock then reads past the allowance: the study stops
    # with one of its two trials instead of starting the second.
    clock = itertools.chain([0.0, 0.0], itertools.repeat(1000.0))
    options = TuneOptions('bc', ('obs',), trials=2, tune_episodes=2, max_epochs=6,
                          fixed_config={'hidden': [32, 32]})
    dataset = read_demos(str(hopper_data), ['obs'])
    study = run_study(options, dataset.episodes, dataset.env_args, storage, 'bc-hopper',
                      progress=False, limit=TimeLimit(1, clock=clock.__next__))
    assert len(study.trials) == 1 and study.trials[0].user_attrs['seconds'] > 0
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '2', '--max-epochs', '6',
            '--set', 'hidden=[32,32]', '--trials', '2', '--defaults-trial', '--no-progress']
    # No time left for a trial at the study's pace: neither the second trial nor the
    # defaults trial starts, no recipe is written, and the stop is not an error.
    capsys.readouterr()
    assert main(args + ['--stop-after', '0']) == 0
    assert 'stopped: the next trial or finalist would end after' in capsys.readouterr().out
    assert len(optuna.load_study(study_name='bc-hopper', storage=storage).trials) == 1
    assert not (study_dir / 'recipe.json').exists()
    # Run again without a limit: the study goes on where it stopped.
    assert main(args) == 0
    study = optuna.load_study(study_name='bc-hopper', storage=storage)
    assert [t.state.name for t in study.trials] == ['COMPLETE'] * 3
    assert (study_dir / 'recipe.json').exists()
    # Finalists too: the first is confirmed, then the clock runs out before the second.
    options = dataclasses.replace(options, defaults_trial=True, finalists=2,
                                  confirm_episodes=1)
    clock = itertools.chain([0.0, 0.0], itertools.repeat(1000.0))
    known = confirm_finalists(study, options, dataset.episodes, dataset.env_args,
                              TimeLimit(1, clock=clock.__next__))
    assert len(known) == 1
    finalists = ['--finalists', '2', '--confirm-episodes', '1', '--recipe',
                 str(study_dir / 'finalists.json')]
    assert main(args + finalists + ['--stop-after', '0']) == 0
    assert 'stopped:' in capsys.readouterr().out
    assert not (study_dir / 'finalists.json').exists()
    assert main(args + finalists) == 0
    source = json.loads((study_dir / 'finalists.json').read_text())['source']
    assert len(source['finalists']) == 2


def test_tune_runs_a_trial_lost_with_its_worker_again_with_its_parameters(hopper_data, tmp_path):
    import optuna
    import sqlite3
    study_dir = tmp_path / 'study'
    args = ['-q', 'tune', '--policy', 'bc', '--dataset', str(hopper_data), '--obs-keys', 'obs',
            '--study', str(study_dir), '--tune-episodes', '1', '--max-epochs', '6',
            '--set', 'hidden=[32,32]', '--no-progress']
    assert main(args + ['--trials', '1']) == 0
    db = study_dir / 'study.db'
    storage = optuna.storages.RDBStorage(f'sqlite:///{db}', heartbeat_interval=60)
    study = optuna.load_study(study_name='bc-hopper', storage=storage)
    # A worker drew a trial unlike the first (from the study's own space) and was killed in
    # it: its last heartbeat is an hour old and it is still marked running.
    lost = study.ask(study.trials[0].distributions)
    lost_params = dict(lost.params)
    assert lost_params != study.trials[0].params
    storage.record_heartbeat(lost._trial_id)
    with sqlite3.connect(db) as sql:
        sql.execute("UPDATE trial_heartbeats SET heartbeat = datetime(heartbeat, '-1 hour')")
    assert main(args + ['--trials', '2']) == 0
    trials = optuna.load_study(study_name='bc-hopper', storage=f'sqlite:///{db}').trials
    assert [t.state.name for t in trials] == ['COMPLETE', 'FAIL', 'COMPLETE']
    # The lost draw ran again, not a fresh one: the study keeps the draws it made.
    assert trials[2].params == lost_params
    assert trials[2].system_attrs['failed_trial'] == lost.number
