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


"""The latency bench: stage timing, synthetic deployments, recall, and runtime unchanged."""

from darp_ros.bench.recall import compare_indexes, near_queries, recall_at_k
from darp_ros.bench.report import command_line, markdown
from darp_ros.bench.runner import BenchOptions, run_synthetic
from darp_ros.bench.stage_clock import StageClock
from darp_ros.bench.step_bench import run_interleaved, STAGES, StepBench, TOTALS
from darp_ros.bench.synthetic_model import SyntheticDeployment, SyntheticSetup, walk_rows
from darp_ros.core.errors import ConfigError
from darp_ros.core.features import FeatureExtractor
from darp_ros.core.index import IndexConfig
from darp_ros.core.runtime import PolicyRuntime
import numpy as np
import pytest


@pytest.fixture(scope='module')
def deployment():
    """Return 300 rows, a 16x16 camera and 5 low-dim values: small, but every stage runs."""
    return SyntheticDeployment(SyntheticSetup(rows=300, low_dim=5, cameras=1, image_size=16,
                                              episode_length=30))


def test_stage_clock_times_nested_stages_exclusively_and_restores():
    clock = StageClock()

    class Thing:
        def inner(self):
            return 1

        def outer(self):
            return self.inner() + 1

    thing = Thing()
    clock.install(thing, 'inner', 'search')
    clock.install(thing, 'outer', 'policy')
    clock.start()
    assert thing.outer() == 2
    assert set(clock.seconds) == {'search', 'policy'}
    assert all(v >= 0 for v in clock.seconds.values())
    clock.uninstall()
    assert 'inner' not in vars(thing) and 'outer' not in vars(thing)


def test_the_novelty_stage_absorbs_its_search():
    clock = StageClock()
    search = clock.wrap('search', lambda: None)
    novelty = clock.wrap('novelty', search)
    clock.start()
    novelty()
    assert set(clock.seconds) == {'novelty'}


@pytest.mark.parametrize('policy', ['bc', 'vinn', 'darp'])
def test_every_stage_is_reported_with_sane_numbers(deployment, policy):
    runtime = PolicyRuntime(deployment.model(policy))
    result = StepBench(runtime, deployment.observations(4)).run(5, warmup=1).to_dict()
    assert set(result['stages']) == set(STAGES) and set(result['totals']) == set(TOTALS)
    for stats in list(result['stages'].values()) + list(result['totals'].values()):
        assert all(np.isfinite(v) and v >= 0 for v in stats.values())
        assert stats['median_ms'] <= stats['p99_ms'] <= stats['max_ms']
    stages, totals = result['stages'], result['totals']
    assert stages['encode']['median_ms'] > 0
    assert totals['total']['median_ms'] >= stages['encode']['median_ms']
    # BC retrieves nothing itself; its novelty is the extra search. The others get it free.
    if policy == 'bc':
        assert stages['search']['median_ms'] == 0 < stages['novelty']['median_ms']
    else:
        assert stages['novelty']['median_ms'] < stages['search']['median_ms']


def test_timing_leaves_the_runtime_acting_as_before(deployment):
    observations = deployment.observations(3)
    model = deployment.model('darp')
    expected = [PolicyRuntime(model).act(o) for o in observations]
    runtime = PolicyRuntime(model)
    StepBench(runtime, observations).run(3, warmup=0)
    assert 'one' not in vars(runtime.extractor) and '_novelty' not in vars(runtime)
    runtime.reset()
    for obs, action in zip(observations, expected):
        np.testing.assert_array_equal(runtime.act(obs), action)


def test_policies_take_turns_in_blocks(deployment):
    # Each policy's steps spread over the whole run, so drift of the machine hits them all.
    observations = deployment.observations(3)
    order = []
    benches = []
    for name in ('bc', 'darp'):
        runtime = PolicyRuntime(deployment.model(name))
        step = runtime.step
        runtime.step = lambda obs, step=step, name=name: order.append(name) or step(obs)
        benches.append(StepBench(runtime, observations))
    results = run_interleaved(benches, steps=5, warmup=1, block=2)
    assert [r.policy for r in results] == ['bc', 'darp']
    for result in results:
        assert all(len(result.series[name]) == 5 for name in STAGES + TOTALS)
    # warm-up 1 each, then per turn 1 untimed + up to 2 timed steps, plain pass then staged.
    turns = ['bc'] * 3 + ['darp'] * 3 + ['bc'] * 3 + ['darp'] * 3 + ['bc'] * 2 + ['darp'] * 2
    assert order == ['bc', 'darp'] + turns + turns


def test_cameras_encoded_together_match_cameras_encoded_apart():
    deployment = SyntheticDeployment(SyntheticSetup(rows=50, low_dim=0, cameras=2,
                                                    image_size=16, episode_length=10))
    extractor = FeatureExtractor(deployment.spec, deployment.encoder)
    obs = deployment.observations(1)[0]
    apart = np.concatenate([deployment.encoder.encode(obs[k]) for k in ('camera0', 'camera1')],
                           axis=1)[0]
    np.testing.assert_allclose(extractor.one(obs), apart, rtol=1e-5, atol=1e-5)


def test_synthetic_rows_keep_episodes_together():
    rows = walk_rows(1000, 4, 100, np.random.default_rng(0))
    steps = np.linalg.norm(np.diff(rows, axis=0), axis=1)
    inside = np.delete(steps, np.arange(99, 999, 100))
    assert rows.dtype == np.float32 and rows.shape == (1000, 4)
    assert np.median(inside) < np.median(steps[99::100])


def test_recall_of_exact_search_against_itself_is_one():
    vectors = walk_rows(500, 6, 50, np.random.default_rng(1))
    queries = near_queries(vectors, 20)
    result = compare_indexes(vectors, queries, 8, [IndexConfig('flat'),
                                                   IndexConfig('flat', 'torch')], warmup=2)
    assert result['flat']['recall_at_k'] == 1.0
    assert result['torch']['recall_at_k'] == 1.0
    assert result['flat']['search']['median_ms'] > 0


def test_recall_at_k_counts_shared_ids():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert recall_at_k(exact, exact) == 1.0
    assert recall_at_k(np.array([[1, 2, 9, 9], [8, 7, 6, 5]]), exact) == 0.75
    with pytest.raises(ConfigError):
        recall_at_k(exact[:, :2], exact)


def test_run_synthetic_reports_ratios_recall_and_a_reproducing_command():
    options = BenchOptions(index_sizes=(200,), policies=('bc', 'darp'), steps=3, warmup=1,
                           recall_k=4, recall_queries=10, low_dim=3)
    report = run_synthetic(options)
    run, = report['runs']
    assert set(run['policies']) == {'bc', 'darp'}
    assert run['ratios']['darp_over_bc_median'] > 0
    assert run['recall']['torch']['recall_at_k'] == 1.0
    assert set(run['recall']) == {'ivf', 'hnsw', 'torch'}
    line = command_line(report)
    assert line.startswith('darp bench --index-size 200 --index-type flat')
    assert '--recall-k 4' in line and '| darp |' in markdown(report)


@pytest.mark.parametrize('changes', [{'index_sizes': (0,)}, {'index_sizes': ()},
                                     {'index_types': ('kd',)}, {'policies': ('gpt',)},
                                     {'steps': 0}, {'low_dim': 0, 'cameras': 0},
                                     {'device': 'tpu'}])
def test_bad_options_name_what_is_wrong(changes):
    with pytest.raises(ConfigError):
        BenchOptions(**changes)
