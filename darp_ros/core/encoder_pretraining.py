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

"""
A meaningful frozen image encoder without downloads, learned from the demonstrations.

ResNet-18 is pretrained on the demonstration images with a behavior-cloning objective,
then frozen. The trunk learns whatever in the images predicts the expert's actions
(gripper, object, their offset); policies then retrieve and act on its 512-d features
exactly as they would on ImageNet or R3M features. The weights are written as a torchvision-layout
safetensors file, so `darp train --encoder-weights` loads them and the bundle records
their path and sha256.
"""

from dataclasses import dataclass
import logging
import time
from typing import Optional, Sequence

from darp_ros.core.encoders import check_trunk_state_dict
from darp_ros.core.errors import ConfigError
from darp_ros.core.image_preprocessing import ImagePreprocessing
from darp_ros.core.machine import machine
from darp_ros.core.normalizer import Normalizer
import numpy as np
import torch
from tqdm import tqdm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainConfig:
    """Optimisation settings of encoder pretraining."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 1e-4
    image_size: int = 84          # the size policies will use the encoder at
    shift: int = 4                # random-shift augmentation, pixels
    seed: int = 0
    progress: bool = True

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0 or self.shift < 0:
            raise ConfigError(f'pretrain config out of range: {self}')


class _BCNet(torch.nn.Module):
    """Shared trunk over every camera, concatenated with low-dim state, to the action."""

    def __init__(self, cameras: int, low_dim: int, action_dim: int, seed: int):
        super().__init__()
        import torchvision
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.trunk = torchvision.models.resnet18(weights=None)
            self.trunk.fc = torch.nn.Identity()
            width = 512 * cameras + low_dim
            self.head = torch.nn.Sequential(
                torch.nn.Linear(width, 512), torch.nn.ReLU(),
                torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Linear(256, action_dim))

    def forward(self, images: Sequence[torch.Tensor], low_dim: torch.Tensor) -> torch.Tensor:
        features = [self.trunk(x) for x in images]
        return self.head(torch.cat(features + [low_dim], dim=1))


def _random_shift(x: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    # Pad by replicating edges and crop back at a random offset (per batch, cheap).
    if pad == 0:
        return x
    padded = torch.nn.functional.pad(x, (pad,) * 4, mode='replicate')
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    return padded[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]


def pretrain_encoder(episodes: Sequence, image_keys: Sequence[str],
                     low_dim_keys: Sequence[str], config: PretrainConfig = PretrainConfig(),
                     device: str = 'cpu') -> tuple:
    """Return (trunk state dict, report) after BC pretraining on episodes' images."""
    if not image_keys:
        raise ConfigError('encoder pretraining needs at least one image key')
    missing = [k for k in [*image_keys, *low_dim_keys] if k not in episodes[0].obs]
    if missing:
        raise ConfigError(f'observation keys {missing} are not in the demonstrations; they '
                          f'have {sorted(episodes[0].obs)}')
    images = [np.concatenate([ep.obs[k] for ep in episodes]) for k in image_keys]
    for key, cam in zip(image_keys, images):
        if cam.dtype != np.uint8 or cam.ndim != 4 or cam.shape[-1] != 3:
            raise ConfigError(f'{key!r} is not a (T, H, W, 3) uint8 image key: found '
                              f'{cam.dtype} {cam.shape[1:]}')
    low_dim = (np.concatenate([np.concatenate([ep.obs[k].reshape(len(ep), -1)
                                               for k in low_dim_keys], axis=1)
                               for ep in episodes]).astype(np.float32)
               if low_dim_keys else np.zeros((len(images[0]), 0), np.float32))
    actions = np.concatenate([ep.actions for ep in episodes]).astype(np.float32)
    state_norm, action_norm = Normalizer.fit(low_dim), Normalizer.fit(actions)
    low_dim_t = state_norm.normalize(torch.as_tensor(low_dim))
    targets = action_norm.normalize(torch.as_tensor(actions))
    preprocess = ImagePreprocessing(size=config.image_size)
    net = _BCNet(len(image_keys), low_dim.shape[1], actions.shape[1], config.seed).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    n, start, losses = len(actions), time.perf_counter(), []
    for _ in tqdm(range(config.epochs), desc='pretrain encoder', disable=not config.progress):
        net.train()
        order, total = torch.randperm(n, generator=generator), 0.0
        for first in range(0, n, config.batch_size):
            ids = order[first:first + config.batch_size]
            views = [_random_shift(preprocess(torch.as_tensor(cam[ids.numpy()]), device),
                                   config.shift, generator) for cam in images]
            loss = torch.nn.functional.mse_loss(net(views, low_dim_t[ids].to(device)),
                                                targets[ids].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(ids)
        losses.append(total / n)
    state = {k: v.detach().cpu().contiguous() for k, v in net.trunk.state_dict().items()}
    report = {'objective': 'behavior cloning (action MSE, z-scored)', 'samples': n,
              'image_keys': list(image_keys), 'low_dim_keys': list(low_dim_keys),
              'epochs': config.epochs, 'train_losses': losses,
              'seconds': time.perf_counter() - start, 'image_size': config.image_size,
              'machine': machine()}
    log.info('pretrained the encoder on %d samples: loss %.4f -> %.4f in %.0f s', n,
             losses[0], losses[-1], report['seconds'])
    return check_trunk_state_dict(state, 'pretrained trunk'), report


def save_encoder(path, state: dict, report: Optional[dict] = None) -> None:
    """Write trunk weights as safetensors (torchvision layout), the report as metadata."""
    import json
    from safetensors.torch import save_file
    metadata = {'darp_ros_pretraining': json.dumps(report or {})}
    save_file(state, str(path), metadata=metadata)
