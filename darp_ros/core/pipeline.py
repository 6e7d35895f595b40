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

"""From demonstration episodes to a trained model: features, normalizers, split, index, fit."""

from dataclasses import asdict, dataclass, field
import logging
import time
from typing import Callable, Mapping, Optional, Sequence

from darp_ros.core.device import resolve_device
from darp_ros.core.encoders import ImageEncoder
from darp_ros.core.errors import ConfigError
from darp_ros.core.features import FeatureExtractor
from darp_ros.core.image_preprocessing import ImagePreprocessing
from darp_ros.core.index import IndexConfig
from darp_ros.core.machine import machine
from darp_ros.core.memory import DemoMemory, DemoRows
from darp_ros.core.model import TrainedModel
from darp_ros.core.normalizer import Normalizer
from darp_ros.core.policies import build_policy, policy_class, TrainingData
from darp_ros.core.spec import ActionSpec, ObservationSpec
from darp_ros.core.training import TrainConfig
import numpy as np
import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    """What to train and how; every field has a sensible default except the policy and keys."""

    policy: str
    obs_keys: tuple
    policy_config: Mapping = field(default_factory=dict)
    train: TrainConfig = TrainConfig()
    index: IndexConfig = IndexConfig()
    val_fraction: float = 0.1
    device: str = 'auto'
    encoder_weights: Optional[str] = None
    random_encoder: bool = False
    image_size: int = 224

    def __post_init__(self):
        policy_class(self.policy)
        if not self.obs_keys:
            raise ConfigError('at least one observation key is needed')
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f'val_fraction must be in [0, 1), got {self.val_fraction}')
        if self.encoder_weights and self.random_encoder:
            raise ConfigError('give either encoder weights or a random encoder, not both')


def split_episodes(count: int, val_fraction: float, seed: int) -> tuple:
    """Seeded split of episode indices into (train, val); val empty below two episodes."""
    order = np.random.default_rng(seed).permutation(count)
    n_val = 0
    if count >= 2 and val_fraction > 0:
        n_val = min(count - 1, max(1, round(val_fraction * count)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def make_encoder(options: TrainOptions, spec: ObservationSpec, device: str):
    """Return the frozen image encoder the options ask for, or None for low-dim keys only."""
    if not spec.image_keys:
        return None
    preprocessing = ImagePreprocessing(size=options.image_size)
    if options.encoder_weights:
        return ImageEncoder.from_file(options.encoder_weights, preprocessing, device)
    if options.random_encoder:
        logger.warning('image keys %s use a RANDOMLY initialized encoder, as asked',
                       list(spec.image_keys))
        return ImageEncoder.random(options.train.seed, preprocessing, device)
    raise ConfigError(f'observation keys {list(spec.image_keys)} are images: give encoder '
                      'weights (torchvision ResNet-18 or R3M file) or ask for a random encoder')


def observation_spec(episode, obs_keys: Sequence[str]) -> ObservationSpec:
    """Spec from one episode's arrays: (T, H, W, 3) uint8 keys are cameras."""
    shapes, images = {}, []
    for key in obs_keys:
        value = episode.obs[key]
        shapes[key] = tuple(value.shape[1:])
        if value.ndim == 4 and value.shape[-1] == 3 and value.dtype == np.uint8:
            images.append(key)
    return ObservationSpec.from_shapes(shapes, images)


def train_model(episodes: Sequence, options: TrainOptions,
                env_args: Optional[Mapping] = None,
                closed_loop: Optional[Callable[[TrainedModel], float]] = None,
                confirm: Optional[Callable[[TrainedModel], float]] = None) -> TrainedModel:
    """
    Train options.policy on episodes (objects with name, obs dict and actions arrays).

    closed_loop(model) rolls the model out on tuning seeds and returns its score; training
    calls it to pick the weights when options.train.keep is 'closed_loop'. The model it is
    given is the one being returned, with the weights of that moment. confirm(model) scores
    the same way on other tuning seeds: the finalists' second score
    (options.train.select_finalists).
    """
    if not episodes:
        raise ConfigError('no episodes to train on')
    start = time.perf_counter()
    device = resolve_device(options.device)
    spec = observation_spec(episodes[0], options.obs_keys)
    encoder = make_encoder(options, spec, device)
    extractor = FeatureExtractor(spec, encoder)
    states = np.concatenate([extractor({k: ep.obs[k] for k in spec.names}) for ep in episodes])
    actions = np.concatenate([np.asarray(ep.actions, dtype=np.float32) for ep in episodes])
    lengths = [len(ep.actions) for ep in episodes]
    episode_ids = np.repeat(np.arange(len(episodes)), lengths)
    steps = np.concatenate([np.arange(n) for n in lengths])
    state_norm = Normalizer.fit(states, options.train.state_scale_floor)
    action_norm = Normalizer.fit(actions)
    rows = DemoRows(state_norm.normalize(states), action_norm.normalize(actions), episode_ids,
                    steps)
    train_eps, val_eps = split_episodes(len(episodes), options.val_fraction, options.train.seed)
    train_rows = rows.subset(np.flatnonzero(np.isin(episode_ids, train_eps)))
    val_rows = rows.subset(np.flatnonzero(np.isin(episode_ids, val_eps))) if len(val_eps) else None
    torch.manual_seed(options.train.seed)
    policy = build_policy(options.policy, dict(options.policy_config), spec.feature_dim,
                          actions.shape[1])
    # Deployment retrieves from every demonstration, held-out episodes included.
    memory = DemoMemory.from_rows(rows, options.index, device).to(device)
    model = TrainedModel(
        policy=policy.to(device), obs_spec=spec,
        action_spec=ActionSpec(actions.shape[1], actions.min(0), actions.max(0)),
        state_normalizer=state_norm, action_normalizer=action_norm, memory=memory,
        index_config=options.index, encoder=encoder,
        episode_names=[str(ep.name) for ep in episodes], env_args=dict(env_args or {}))
    train_memory = memory if not len(val_eps) else DemoMemory.from_rows(train_rows,
                                                                        options.index, device)
    data = TrainingData(train_memory, val_rows,
                        (lambda: closed_loop(model)) if closed_loop is not None else None,
                        (lambda: confirm(model)) if confirm is not None else None)
    report = policy.fit(data, options.train, device)
    training = {
        'options': {**asdict(options), 'train': options.train.to_dict(),
                    'index': options.index.to_dict(),
                    'policy_config': dict(options.policy_config)},
        'episodes': {'train': [int(i) for i in train_eps], 'val': [int(i) for i in val_eps]},
        'num_samples': int(len(rows)), 'device': device, 'report': report.to_dict(),
        'seconds': time.perf_counter() - start, 'machine': machine(),
    }
    model.policy.to(device)
    model.training = training
    return model
