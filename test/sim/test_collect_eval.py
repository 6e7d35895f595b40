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

"""darp collect -> darp train -> darp eval with the real simulator, and their bad inputs."""

import json
import multiprocessing
import os
import signal

from darp_ros.cli.main import main
from darp_ros.core.errors import ConfigError
from darp_ros.core.runtime import PolicyRuntime
from darp_ros.data.hdf5 import read_demos
from darp_ros.data.hdf5_writer import write_demos
from darp_ros.data.synthetic import make_episodes
from darp_ros.sim.agents import PolicyAgent
from darp_ros.sim.environment import build_env, make_env_args, reset_with_seed
from darp_ros.sim.evaluate import EvalOptions, evaluate_bundle
from darp_ros.sim.observations import dataset_obs
from darp_ros.sim.parallel import AgentSpec, RolloutJob, run_rollouts
from darp_ros.sim.tasks import DEFAULT_OBS_KEYS
import numpy as np
import pytest

KEYS = ','.join(DEFAULT_OBS_KEYS)


@pytest.fixture(scope='module')
def lift_demos(tmp_path_factory):
    path = tmp_path_factory.mktemp('collect') / 'lift.hdf5'
    report = path.with_suffix('.json')
    assert main(['collect', '--task', 'Lift', '--episodes', '3', '--out', str(path),
                 '--json', str(report), '--no-progress']) == 0
    return path, json.loads(report.read_text())


@pytest.fixture(scope='module')
def lift_model(lift_demos, tmp_path_factory):
    out = tmp_path_factory.mktemp('model') / 'bc'
    assert main(['train', '--policy', 'bc', '--dataset', str(lift_demos[0]), '--obs-keys', KEYS,
                 '--out', str(out), '--epochs', '3', '--no-progress']) == 0
    return out


def test_collect_writes_a_file_that_rebuilds_its_environment(lift_demos):
    path, report = lift_demos
    assert report['kept'] == 3 and report['attempts'] >= 3
    dataset = read_demos(path, DEFAULT_OBS_KEYS)
    assert len(dataset.episodes) == 3
    assert dataset.env_args['env_name'] == 'Lift'
    env = build_env(dataset.env_args)     # from the file alone
    env.close()
    episode = dataset.episodes[0]
    assert episode.actions.shape[1] == 7 and len(episode) > 10
    assert episode.obs['object'].shape == (len(episode), 10)


def test_collect_with_a_camera_stores_upright_uint8_images(tmp_path):
    path = tmp_path / 'img.hdf5'
    assert main(['collect', '--task', 'Lift', '--episodes', '1', '--out', str(path),
                 '--cameras', 'agentview', '--image-size', '32', '--no-progress']) == 0
    dataset = read_demos(path, ('agentview_image', 'robot0_eef_pos'))
    images = dataset.episodes[0].obs['agentview_image']
    assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 3)
    assert dataset.env_args['env_kwargs']['camera_names'] == ['agentview']
    # Upright: the table (bright, lower half) is below the dark background (upper rows).
    frame = images[0].astype(float).mean(axis=(1, 2))
    assert frame[-8:].mean() > frame[:8].mean()


def test_eval_reports_figures_and_is_repeatable(lift_model, tmp_path):
    out = tmp_path / 'eval.json'
    args = ['eval', '--model', str(lift_model), '--episodes', '2', '--seed', '500',
            '--horizon', '15', '--json', str(out), '--no-progress']
    assert main(args) == 0
    first = json.loads(out.read_text())
    assert first['episodes'] == 2 and first['policy'] == 'bc' and first['task'] == 'Lift'
    assert 0 <= first['wilson95'][0] <= first['success_rate'] <= first['wilson95'][1] <= 1
    assert first['latency']['steps'] == sum(e['steps'] for e in first['per_episode'])
    assert first['latency']['median_ms'] > 0 and first['seeds'] == [500, 501]
    assert main(args) == 0
    assert json.loads(out.read_text())['per_episode'] == first['per_episode']


def test_eval_across_worker_processes_matches_in_process(lift_model):
    options = {'episodes': 2, 'seed': 900, 'horizon': 12}
    alone = evaluate_bundle(str(lift_model), EvalOptions(**options, workers=1))
    pooled = evaluate_bundle(str(lift_model), EvalOptions(**options, workers=2))
    assert [r.summary() for r in alone.results] == [r.summary() for r in pooled.results]
    assert pooled.lost_seeds == []


def test_expert_rollouts_across_workers_keep_every_episode():
    job = RolloutJob(make_env_args('Lift'), AgentSpec('expert', task='Lift'), 120)
    batch = run_rollouts(job, [0, 1, 2], workers=2)
    assert [r.seed for r in batch.results] == [0, 1, 2] and batch.lost == []
    assert all(r.success for r in batch.results)


def test_eval_rejects_a_bundle_the_environment_cannot_feed(tmp_path):
    # Synthetic demonstrations observe 'pos', which no robosuite task provides.
    path = tmp_path / 'synthetic.hdf5'
    write_demos(path, make_episodes(4, 20, seed=0), make_env_args('Lift'))
    model = tmp_path / 'model'
    assert main(['train', '--policy', 'nn1', '--dataset', str(path), '--obs-keys', 'pos',
                 '--out', str(model), '--no-progress']) == 0
    with pytest.raises(ConfigError, match=r"the bundle observes \['pos'\], which Lift does "
                                          r'not provide; it provides \['):
        evaluate_bundle(str(model), EvalOptions(episodes=1))


def test_eval_of_a_bundle_without_env_args_says_so(tmp_path, capsys):
    path = tmp_path / 'synthetic.hdf5'
    write_demos(path, make_episodes(4, 20, seed=0), {})
    model = tmp_path / 'model'
    assert main(['train', '--policy', 'nn1', '--dataset', str(path), '--obs-keys', 'pos',
                 '--out', str(model), '--no-progress']) == 0
    assert main(['eval', '--model', str(model), '--episodes', '1', '--no-progress']) == 2
    assert 'records no env_args' in capsys.readouterr().err


def test_collect_refuses_to_overwrite_and_names_unknown_tasks(tmp_path, capsys):
    taken = tmp_path / 'taken.hdf5'
    taken.write_bytes(b'keep me')
    assert main(['collect', '--task', 'Lift', '--episodes', '1', '--out', str(taken)]) == 2
    assert 'already exists' in capsys.readouterr().err
    assert taken.read_bytes() == b'keep me'
    assert main(['collect', '--task', 'Juggle', '--episodes', '1', '--out', 'x.hdf5']) == 2
    assert "invalid choice: 'Juggle'" in capsys.readouterr().err


def test_a_killed_worker_loses_only_its_unfinished_episodes():
    job = RolloutJob(make_env_args('Lift'), AgentSpec('expert', task='Lift'), 120)
    seeds = list(range(12))
    killed = []

    def kill_one_worker(result):
        if not killed:
            victim = multiprocessing.active_children()[0]
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    batch = run_rollouts(job, seeds, workers=2, on_result=kill_one_worker)
    assert killed and batch.lost, 'the pool should have noticed the dead worker'
    assert sorted([r.seed for r in batch.results] + batch.lost) == seeds
    assert all(r.success for r in batch.results) and len(batch.results) >= 1


def test_diagnose_rolls_out_in_robosuite(lift_model, tmp_path):
    out = tmp_path / 'diag.json'
    assert main(['-q', 'diagnose', '--model', str(lift_model), '--episodes', '2',
                 '--horizon', '4', '--json', str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures['closed_loop']['queries'] == 8
    # Six pairs of consecutive steps within the two rollouts, not seven across them.
    assert figures['closed_loop']['nearest_switch_share'] * 6 == pytest.approx(
        round(figures['closed_loop']['nearest_switch_share'] * 6))
    assert figures['training']['nearest_switch_share'] is None
    rollouts = figures['closed_loop']['rollouts']
    assert [(r['seed'], r['success'], r['steps']) for r in rollouts] == [
        (50000, False, 4), (50001, False, 4)]
    assert figures['closed_loop']['stages'] is None     # Lift has no staged rewards
    assert figures['training']['nearest_median'] > 0


def test_diagnose_widens_the_placement_when_asked(lift_model, tmp_path):
    def nearest(*scale):
        out = tmp_path / f'diag{len(scale)}.json'
        assert main(['-q', 'diagnose', '--model', str(lift_model), '--episodes', '2',
                     '--horizon', '1', '--json', str(out), *scale]) == 0
        figures = json.loads(out.read_text())
        return figures['placement_scale'], figures['closed_loop']['nearest_median']

    nominal, shifted = nearest(), nearest('--placement-scale', '3')
    assert nominal[0] == 1.0 and shifted[0] == 3.0
    # The same seeds place the cube elsewhere, so the first query meets other distances.
    assert shifted[1] != pytest.approx(nominal[1])


def test_diagnose_records_how_far_each_robosuite_rollout_got(tmp_path):
    # 1-NN from the demonstration's own initial state (seed 0) replays the expert, whose
    # reach reward climbs from the second step on: the state the last action reached holds
    # the rollout's highest value, as the completed stage of a successful rollout would.
    demos, model = tmp_path / 'stack.hdf5', tmp_path / 'nn1'
    assert main(['-q', 'collect', '--task', 'Stack', '--episodes', '1', '--out', str(demos),
                 '--no-progress']) == 0
    assert main(['-q', 'train', '--policy', 'nn1', '--dataset', str(demos), '--obs-keys', KEYS,
                 '--out', str(model), '--no-progress']) == 0
    out = tmp_path / 'diag.json'
    assert main(['-q', 'diagnose', '--model', str(model), '--episodes', '2', '--seed', '0',
                 '--horizon', '3', '--json', str(out)]) == 0
    figures = json.loads(out.read_text())['closed_loop']
    # By hand: every stage's maximum over the initial state and the three the actions reached.
    env = build_env(read_demos(demos, DEFAULT_OBS_KEYS).env_args)
    agent = PolicyAgent(PolicyRuntime.load(model, 'cpu'))
    by_hand, acted_on = [], []
    for seed in (0, 1):
        obs = dataset_obs(reset_with_seed(env, seed), ())
        agent.reset(env, seed)
        values = [env.staged_rewards()]
        for _ in range(3):
            raw, _, _, _ = env.step(agent.act(env, obs))
            obs = dataset_obs(raw, ())
            values.append(env.staged_rewards())
        by_hand.append(list(np.max(values, axis=0)))
        acted_on.append(list(np.max(values[:-1], axis=0)))
    env.close()
    assert by_hand[0][0] > acted_on[0][0], 'the last state should hold the highest reach'
    np.testing.assert_allclose([r['stages'] for r in figures['rollouts']], by_hand)
    assert figures['stages']['names'] == ['reach and grasp', 'lift and align', 'stack']
    assert figures['stages']['mean_max'] == pytest.approx(np.mean(by_hand, axis=0))
    assert figures['stages']['mean_max_failed'] == pytest.approx(np.mean(by_hand, axis=0))
