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

"""The style-diversity knob: Style.sample's ranges, the expert agent, and the commands."""

from dataclasses import replace
import json

from darp_ros.cli.main import main
from darp_ros.core.errors import ConfigError
from darp_ros.data.hdf5_writer import write_demos
from darp_ros.data.synthetic import ENV_ARGS, make_episodes
from darp_ros.sim.agents import ExpertAgent
from darp_ros.sim.benchmark import BenchmarkPlan, dataset_path, ensure_demos
from darp_ros.sim.collect import collect_demos
from darp_ros.sim.experts.grasp import Style
import numpy as np
import pytest

DEPTHS = [(-0.012, -0.002), (0.0, 0.02), (-0.008, 0.0)]


@pytest.mark.parametrize('depth', DEPTHS)
def test_diversity_zero_is_the_middle_of_every_range(depth):
    for seed in range(20):
        style = Style.sample(np.random.default_rng(seed), depth=depth, diversity=0.0)
        assert style.approach_height == pytest.approx(0.085)
        np.testing.assert_allclose(style.approach_offset, [0.0, 0.0], atol=1e-12)
        assert style.speed == pytest.approx(0.8)
        assert style.grasp_depth == pytest.approx(sum(depth) / 2)


@pytest.mark.parametrize('depth', DEPTHS)
def test_diversity_one_reproduces_the_original_draws(depth):
    for seed in range(20):
        rng, old = np.random.default_rng(seed), np.random.default_rng(seed)
        style = Style.sample(rng, depth=depth, diversity=1.0)
        # The draws Style.sample made before the knob existed, in the same order.
        assert style.approach_height == old.uniform(0.05, 0.12)
        np.testing.assert_array_equal(style.approach_offset, old.uniform(-0.03, 0.03, 2))
        assert style.speed == old.uniform(0.6, 1.0)
        assert style.grasp_depth == old.uniform(*depth)
        assert rng.random() == old.random()


def test_diversity_narrows_the_ranges_and_leaves_later_draws_alone():
    for seed in range(50):
        rng, full = np.random.default_rng(seed), np.random.default_rng(seed)
        style = Style.sample(rng, diversity=0.5)
        Style.sample(full)
        assert 0.0675 <= style.approach_height <= 0.1025
        assert np.all(np.abs(style.approach_offset) <= 0.015)
        assert 0.7 <= style.speed <= 0.9
        assert -0.0095 <= style.grasp_depth <= -0.0045
        assert rng.random() == full.random()   # e.g. Lift's lift height: the same draw


def test_expert_agent_passes_the_diversity_to_its_expert():
    agent = ExpertAgent('Lift', noise=0.05, style_diversity=0.25)
    calls = []
    agent.factory = lambda env, rng, noise, diversity: calls.append((noise, diversity))
    agent.reset(None, seed=3)
    assert calls == [(0.05, 0.25)]


@pytest.mark.parametrize('diversity', [-0.1, 1.5, float('nan')])
def test_out_of_range_diversity_is_a_config_error(diversity):
    with pytest.raises(ConfigError, match='style diversity must be in'):
        ExpertAgent('Lift', style_diversity=diversity)
    with pytest.raises(ConfigError, match='style diversity must be in'):
        collect_demos('Lift', 1, style_diversity=diversity)


@pytest.mark.parametrize('command', [
    ['collect', '--task', 'Lift', '--episodes', '1', '--out', 'unused.hdf5'],
    ['benchmark', '--out', 'unused', '--report-only'],
])
@pytest.mark.parametrize('value', ['1.5', '-0.5', 'half'])
def test_commands_reject_a_diversity_outside_0_1(command, value, tmp_path, capsys):
    assert main(command + ['--style-diversity', value]) == 2
    err = capsys.readouterr().err
    assert 'argument --style-diversity: expected a number in [0, 1]' in err
    assert not (tmp_path / 'unused.hdf5').exists()


def test_benchmark_refuses_demos_collected_at_another_diversity(tmp_path):
    plan = BenchmarkPlan(tmp_path, tasks=('Lift',), demos=(1,), style_diversity=0.0)
    path = dataset_path(plan, 'Lift')
    path.parent.mkdir(parents=True)
    write_demos(path, make_episodes(1, 5), ENV_ARGS)
    (path.parent / 'expert.json').write_text(json.dumps({'noise': 0.05}))   # before the knob
    with pytest.raises(ConfigError, match='style diversity 1.0, not 0.0'):
        ensure_demos(plan, 'Lift')
    (path.parent / 'expert.json').write_text(json.dumps({'style_diversity': 0.0}))
    assert ensure_demos(plan, 'Lift') == path


def test_benchmark_refuses_a_demo_file_with_fewer_demonstrations_than_asked(tmp_path):
    # Cells of 10 ran in this --out first; asking 50 now must not train "n50" on 10.
    plan = BenchmarkPlan(tmp_path, tasks=('Lift',), demos=(2, 5))
    path = dataset_path(plan, 'Lift')
    path.parent.mkdir(parents=True)
    write_demos(path, make_episodes(2, 5), ENV_ARGS)
    (path.parent / 'expert.json').write_text(json.dumps({'style_diversity': 1.0}))
    with pytest.raises(ConfigError, match='holds 2 demonstrations, fewer than the 5 asked'):
        ensure_demos(plan, 'Lift')
    # A file without its collection record is counted too.
    (path.parent / 'expert.json').unlink()
    with pytest.raises(ConfigError, match='holds 2 demonstrations, fewer than the 5 asked'):
        ensure_demos(plan, 'Lift')
    assert path.exists()
    assert ensure_demos(replace(plan, demos=(2,)), 'Lift') == path
