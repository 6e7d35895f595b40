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


"""The latest-value cache: newest message wins, staleness by stamp and arrival, clear faults."""

from types import SimpleNamespace as Msg

from darp_ros.control.node_config import node_config
from darp_ros.control.observation_assembler import InputFault, ObservationAssembler
from darp_ros.core.spec import ObservationSpec
import numpy as np
import pytest

SPEC = ObservationSpec.from_shapes({'q': (2,), 'obj': (3,), 'cam': (4, 4, 3)}, ['cam'])
PARAMS = {
    'observation_keys': ['q', 'obj', 'cam'], 'max_input_age_s': 0.1,
    'max_future_stamp_s': 0.02,
    'obs.q.topic': 'joints', 'obs.q.type': 'joint_state', 'obs.q.joints': ['b', 'a'],
    'obs.obj.topic': 'object', 'obs.obj.type': 'float64_multi_array',
    'obs.cam.topic': 'camera', 'obs.cam.type': 'image',
}


def stamp(t):
    """Return a builtin_interfaces/Time-like stamp of t seconds."""
    return Msg(sec=int(t), nanosec=int(round(t % 1 * 1e9)))


def joints(t, a=1.0, b=2.0):
    """Return a JointState-like message stamped t."""
    return Msg(header=Msg(stamp=stamp(t)), name=['a', 'b'], position=np.array([a, b]),
               velocity=np.array([]), effort=np.array([]))


def image(t, value=7, size=4):
    """Return an rgb8 Image-like message stamped t."""
    data = np.full((size, size, 3), value, np.uint8)
    return Msg(header=Msg(stamp=stamp(t)), height=size, width=size, encoding='rgb8',
               is_bigendian=0, step=size * 3, data=data.tobytes())


def array(values):
    """Return a Float64MultiArray-like message (no header, so arrival age only)."""
    return Msg(data=np.asarray(values, float), layout=Msg(dim=[], data_offset=0))


@pytest.fixture
def assembler():
    """Return an assembler fed one good message per topic at t = 10 s."""
    result = ObservationAssembler(node_config(PARAMS), SPEC)
    result.update('joints', joints(10.0), 10.0)
    result.update('object', array([1, 2, 3]), 10.0)
    result.update('camera', image(10.0), 10.0)
    return result


def test_assembles_keys_in_bundle_order_from_the_newest_messages(assembler):
    assembler.update('joints', joints(10.01, a=5.0), 10.01)
    obs = assembler.assemble(10.05)
    np.testing.assert_allclose(obs['q'], [2.0, 5.0])
    np.testing.assert_allclose(obs['obj'], [1, 2, 3])
    assert obs['cam'].shape == (4, 4, 3) and obs['cam'].dtype == np.uint8
    assert assembler.counts == {'joints': 2, 'object': 1, 'camera': 1}


def test_decoding_happens_once_per_message(assembler):
    first = assembler.assemble(10.01)['cam']
    assert assembler.assemble(10.02)['cam'] is first


@pytest.mark.parametrize('now, words', [
    (10.2, 'stale: last message arrived'),
    (9.0, 'arrived 1.000 s in the future: the clock went back'),
])
def test_stale_by_arrival(assembler, now, words):
    with pytest.raises(InputFault, match=words):
        assembler.assemble(now)


def test_stale_by_stamp_even_when_fresh_on_arrival():
    fresh = ObservationAssembler(node_config(PARAMS), SPEC)
    fresh.update('joints', joints(9.0), 10.05)
    fresh.update('object', array([1, 2, 3]), 10.05)
    fresh.update('camera', image(10.0), 10.05)
    with pytest.raises(InputFault, match='joints is stale: stamp is'):
        fresh.assemble(10.06)


@pytest.mark.parametrize('msg, words', [
    (joints(9.99), 'joints: stamp went back 0.010 s'),
    (Msg(header=Msg(stamp=stamp(0.0)), name=['a', 'b'], position=np.array([1.0, 2.0]),
         velocity=np.array([]), effort=np.array([])), 'joints: stamp is 0 after stamped'),
])
def test_a_stamp_that_goes_back_or_vanishes_holds_until_a_good_one(assembler, msg, words):
    assembler.update('joints', msg, 10.02)
    with pytest.raises(InputFault, match=words):
        assembler.assemble(10.03)
    assembler.update('joints', joints(10.03), 10.03)
    assert assembler.assemble(10.04)['q'].shape == (2,)


def test_a_value_beyond_float32_names_the_input(assembler):
    assembler.update('object', array([1.0, 1e39, 3.0]), 10.01)
    with pytest.raises(InputFault, match=r'object \(obj\).*beyond float32'):
        assembler.assemble(10.02)


def test_every_missing_topic_is_named_at_once():
    result = ObservationAssembler(node_config(PARAMS), SPEC)
    result.update('object', array([1, 2, 3]), 1.0)
    with pytest.raises(InputFault, match='no message yet on joints, camera'):
        result.assemble(1.0)


def test_future_stamps_are_refused(assembler):
    assembler.update('camera', image(10.5), 10.05)
    with pytest.raises(InputFault, match='in the future'):
        assembler.assemble(10.06)


def test_missing_topic_and_bad_message_name_the_topic():
    result = ObservationAssembler(node_config(PARAMS), SPEC)
    with pytest.raises(InputFault, match='no message yet on joints'):
        result.assemble(1.0)
    result.update('joints', joints(1.0), 1.0)
    result.update('object', array([1, 2]), 1.0)
    result.update('camera', image(1.0, size=5), 1.0)
    with pytest.raises(InputFault, match=r'object \(obj\): got 2 values'):
        result.assemble(1.01)
    result.update('object', array([1, 2, 3]), 1.0)
    with pytest.raises(InputFault, match=r'camera \(cam\): image is 5x5'):
        result.assemble(1.01)


def test_resize_is_opt_in():
    result = ObservationAssembler(node_config({**PARAMS, 'obs.cam.resize': True}), SPEC)
    result.update('joints', joints(1.0), 1.0)
    result.update('object', array([1, 2, 3]), 1.0)
    result.update('camera', image(1.0, size=8), 1.0)
    assert result.assemble(1.01)['cam'].shape == (4, 4, 3)


def test_ages_report_both_clocks(assembler):
    ages = assembler.ages(10.5)
    assert ages['object'].stamp_age_s is None
    assert ages['joints'].stamp_age_s == pytest.approx(0.5)
    assert ages['joints'].arrival_age_s == pytest.approx(0.5)


def test_require_stamps_refuses_an_unstamped_input_it_could_not_date():
    params = {key: value for key, value in PARAMS.items() if not key.startswith('obs.obj')}
    params['observation_keys'] = ['q', 'cam']
    strict = ObservationAssembler(node_config({**params, 'require_stamps': True}),
                                  ObservationSpec.from_shapes({'q': (2,), 'cam': (4, 4, 3)},
                                                              ['cam']))
    strict.update('joints', joints(10.0), 10.0)
    strict.update('camera', image(0.0), 10.0)        # a driver that does not stamp
    with pytest.raises(InputFault, match='camera: stamp is 0 and require_stamps is set'):
        strict.assemble(10.01)
    strict.update('camera', image(10.01), 10.01)
    assert set(strict.assemble(10.02)) == {'q', 'cam'}
