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

"""Tests of the `darp` command line, run in-process on tiny synthetic HDF5 files."""

import json
import logging
import os
from pathlib import Path
import subprocess
import sys

from darp_ros import __version__
from darp_ros.cli.diagnose import rollouts_line, stages_table
from darp_ros.cli.main import main
from darp_ros.core.policies import policy_names
from darp_ros.data.hdf5_writer import write_demos
from darp_ros.data.synthetic import ENV_ARGS, make_episodes
import pytest

REPO = Path(__file__).resolve().parents[2]
FAST = ('--epochs', '2', '--no-progress', '--device', 'cpu')


@pytest.fixture(scope='module', autouse=True)
def restore_logging():
    """Undo main()'s logging setup, so later test modules see the logger as they left it."""
    logger = logging.getLogger('darp_ros')
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


@pytest.fixture(scope='module')
def demos(tmp_path_factory):
    path = tmp_path_factory.mktemp('data') / 'demos.hdf5'
    write_demos(path, make_episodes(6, 20, seed=0), ENV_ARGS)
    return path


@pytest.fixture(scope='module')
def image_demos(tmp_path_factory):
    path = tmp_path_factory.mktemp('data') / 'images.hdf5'
    write_demos(path, make_episodes(6, 20, seed=0, image_size=32), ENV_ARGS)
    return path


@pytest.fixture(scope='module')
def darp_bundle(demos, tmp_path_factory):
    out = tmp_path_factory.mktemp('bundles') / 'darp'
    assert main(['-q', 'train', '--policy', 'darp', '--dataset', str(demos), '--obs-keys',
                 'pos', '--out', str(out), *FAST]) == 0
    return out


def train(capsys, dataset, out, policy, *extra):
    """Run `darp train` and return (exit code, stdout, stderr)."""
    code = main(['train', '--policy', policy, '--dataset', str(dataset), '--obs-keys', 'pos',
                 '--out', str(out), *FAST, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def info_json(capsys, bundle):
    assert main(['info', str(bundle), '--json']) == 0
    return json.loads(capsys.readouterr().out)


def assert_user_error(code, err, command, *fragments):
    assert code == 2
    assert err.startswith(f'darp {command}: error: ') or f'\ndarp {command}: error: ' in err
    assert 'Traceback' not in err
    for fragment in fragments:
        assert fragment in err


@pytest.mark.parametrize('policy', policy_names())
def test_train_then_info_for_every_policy(policy, demos, tmp_path, capsys):
    out = tmp_path / 'bundle'
    code, stdout, _ = train(capsys, demos, out, policy)
    assert code == 0
    assert f'policy:   {policy}' in stdout
    assert 'samples:  120' in stdout
    assert '5 train, 1 val' in stdout
    assert str(out) in stdout
    assert (out / 'bundle.json').is_file()

    manifest = info_json(capsys, out)
    assert manifest['policy']['name'] == policy
    assert [key['name'] for key in manifest['observation']['keys']] == ['pos']
    assert manifest['num_samples'] == 120

    assert main(['info', str(out), '--check']) == 0
    stdout = capsys.readouterr().out
    assert f'policy:        {policy}' in stdout
    assert 'pos: shape (2,), low_dim' in stdout
    assert 'encoder:       none' in stdout
    assert '120 rows from 6 episodes' in stdout
    assert 'control rate:  20 Hz' in stdout
    assert 'check:         OK' in stdout


def test_set_and_k_reach_the_bundle(demos, tmp_path, capsys):
    out = tmp_path / 'bundle'
    code, _, err = train(capsys, demos, out, 'darp', '--k', '4', '--set', 'aggregator=set',
                         '--set', 'exclude_own_episode=true', '--set', 'hidden=[32,32]',
                         '--index', 'hnsw', '--seed', '3')
    assert code == 0, err
    manifest = info_json(capsys, out)
    config = manifest['policy']['config']
    assert config['k'] == 4
    assert config['aggregator'] == 'set'
    assert config['exclude_own_episode'] is True
    assert config['hidden'] == [32, 32]
    assert manifest['index']['kind'] == 'hnsw'
    assert manifest['training']['options']['train']['seed'] == 3


def test_state_scale_floor_reaches_the_bundle_and_a_bad_one_is_named(demos, tmp_path, capsys):
    out = tmp_path / 'bundle'
    code, _, err = train(capsys, demos, out, 'bc', '--state-scale-floor', '1')
    assert code == 0, err
    manifest = info_json(capsys, out)
    assert manifest['training']['options']['train']['state_scale_floor'] == 1.0
    code, _, err = train(capsys, demos, tmp_path / 'other', 'bc', '--state-scale-floor', '-1')
    assert_user_error(code, err, 'train', 'state_scale_floor')
    assert not (tmp_path / 'other').exists()


def test_image_policy_with_random_encoder(image_demos, tmp_path, capsys):
    out = tmp_path / 'bundle'
    code = main(['train', '--policy', 'vinn', '--dataset', str(image_demos), '--obs-keys',
                 'pos,camera', '--out', str(out), '--image-size', '32', '--random-encoder',
                 '--k', '3', *FAST])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    manifest = info_json(capsys, out)
    assert manifest['encoder']['weights']['kind'] == 'random'
    assert manifest['encoder']['preprocessing']['size'] == 32
    assert manifest['policy']['config']['k'] == 3
    assert main(['info', str(out)]) == 0
    stdout = capsys.readouterr().out
    assert 'encoder:       random' in stdout
    assert 'camera: shape (32, 32, 3), rgb' in stdout


def test_image_key_needs_an_encoder(image_demos, tmp_path, capsys):
    code = main(['train', '--policy', 'vinn', '--dataset', str(image_demos), '--obs-keys',
                 'pos,camera', '--out', str(tmp_path / 'bundle'), '--image-size', '32', *FAST])
    assert_user_error(code, capsys.readouterr().err, 'train', "['camera']", 'encoder')
    assert not (tmp_path / 'bundle').exists()


def test_missing_dataset(tmp_path, capsys):
    code, _, err = train(capsys, tmp_path / 'absent.hdf5', tmp_path / 'bundle', 'bc')
    assert_user_error(code, err, 'train', 'absent.hdf5', 'no such file')


def test_missing_obs_key_is_named(demos, tmp_path, capsys):
    code = main(['train', '--policy', 'bc', '--dataset', str(demos), '--obs-keys',
                 'pos,gripper_qpos', '--out', str(tmp_path / 'bundle'), *FAST])
    assert_user_error(code, capsys.readouterr().err, 'train', "'gripper_qpos'",
                      'missing observation key')


def test_unknown_set_option_lists_known_ones(demos, tmp_path, capsys):
    code, _, err = train(capsys, demos, tmp_path / 'bundle', 'darp', '--set', 'colour=red')
    assert_user_error(code, err, 'train', "'colour'", 'aggregator', 'exclude_own_episode')


def test_set_value_of_wrong_type(demos, tmp_path, capsys):
    code, _, err = train(capsys, demos, tmp_path / 'bundle', 'darp', '--set', 'k=many')
    assert_user_error(code, err, 'train', 'k', "'many'")


def test_k_for_a_policy_without_k(demos, tmp_path, capsys):
    code, _, err = train(capsys, demos, tmp_path / 'bundle', 'bc', '--k', '4')
    assert_user_error(code, err, 'train', '--k', "'bc'")


def test_existing_out_needs_overwrite(demos, darp_bundle, capsys):
    before = (darp_bundle / 'bundle.json').read_text()
    code, _, err = train(capsys, demos, darp_bundle, 'bc')
    assert_user_error(code, err, 'train', str(darp_bundle), '--overwrite')
    assert (darp_bundle / 'bundle.json').read_text() == before


def test_overwrite_replaces_the_bundle(demos, tmp_path, capsys):
    out = tmp_path / 'bundle'
    assert train(capsys, demos, out, 'nn1')[0] == 0
    assert train(capsys, demos, out, 'bc', '--overwrite')[0] == 0
    assert info_json(capsys, out)['policy']['name'] == 'bc'


def test_info_on_a_directory_that_is_not_a_bundle(tmp_path, capsys):
    code = main(['info', str(tmp_path)])
    assert_user_error(code, capsys.readouterr().err, 'info', 'bundle.json')


def test_info_check_reports_a_broken_bundle(darp_bundle, tmp_path, capsys):
    broken = tmp_path / 'broken'
    broken.mkdir()
    for item in darp_bundle.iterdir():
        if item.is_file() and item.name != 'policy.safetensors':
            (broken / item.name).write_bytes(item.read_bytes())
    (broken / 'index').symlink_to(darp_bundle / 'index')
    assert main(['info', str(broken)]) == 0
    capsys.readouterr()
    code = main(['info', str(broken), '--check'])
    err = capsys.readouterr().err
    assert_user_error(code, err, 'info', 'check failed', 'policy.safetensors')


def test_info_json_with_check_keeps_stdout_json(darp_bundle, capsys):
    assert main(['info', str(darp_bundle), '--json', '--check']) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)['policy']['name'] == 'darp'
    assert 'OK' in captured.err


def test_usage_errors_and_version(capsys):
    assert main(['--version']) == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 2
    assert main(['train', '--policy', 'nope']) == 2
    assert 'invalid choice' in capsys.readouterr().err


def test_verbosity_before_or_after_the_command(darp_bundle, capsys):
    logger = logging.getLogger('darp_ros')
    assert main(['info', str(darp_bundle), '-v']) == 0
    assert logger.level == logging.DEBUG
    assert main(['-q', 'info', str(darp_bundle)]) == 0
    assert logger.level == logging.WARNING
    assert main(['info', str(darp_bundle)]) == 0
    assert logger.level == logging.INFO


def test_console_entry_in_a_subprocess(darp_bundle):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(REPO), os.environ.get('PYTHONPATH')])))
    result = subprocess.run([sys.executable, '-m', 'darp_ros.cli.main', 'info', str(darp_bundle)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'policy:        darp' in result.stdout
    assert 'encoder:       none' in result.stdout
    result = subprocess.run([sys.executable, '-m', 'darp_ros.cli.main', 'info',
                             str(darp_bundle / 'missing')],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith('darp info: error: ')
    assert 'Traceback' not in result.stderr


def test_diagnose_sets_switches_against_how_the_rollouts_ended():
    won = {'seed': 1, 'success': True, 'steps': 40, 'nearest_switch_share': 0.1}
    lost = {'seed': 2, 'success': False, 'steps': 250, 'nearest_switch_share': 0.02}
    line = rollouts_line([won, lost, dict(lost, seed=3, nearest_switch_share=0.04)])
    assert line == ('rollouts: 1/3 succeeded; nearest demo switches per step 10.0% in those, '
                    '3.0% in the others')
    returns = [{'seed': s, 'return': r, 'steps': 9, 'nearest_switch_share': w}
               for s, r, w in ((1, 10.0, 0.5), (2, 30.0, 0.1), (3, 20.0, None))]
    assert rollouts_line(returns) == ('rollouts: mean return 20.0; nearest demo switches per '
                                      'step 10.0% in the better half, 50.0% in the others')
    assert rollouts_line([]) == 'no rollouts'
    stages = {'names': ['reach', 'grasp'], 'mean_max': [0.1, 0.35], 'mean_max_failed': None}
    assert stages_table(stages).splitlines()[-1].split() == ['grasp', '0.350', '-']
