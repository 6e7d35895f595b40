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
How much of the demonstrated action an output bound of B z-units clips, per dimension.

Each action dimension is z-scored over the first DEMOS demonstrations as training does
(Normalizer.fit); an episode's clipped share is the summed |action - bounded action| over
its summed |action|; printed is the mean over the episodes, per dimension.

Usage: clipped_share.py DEMOS_HDF5... [--demos 50] [--bound 1.0]
"""

import argparse

import numpy as np

from darp_ros.core.normalizer import Normalizer
from darp_ros.data.hdf5 import read_demos
from darp_ros.sim.tasks import DEFAULT_OBS_KEYS


def clipped_share(actions: list, bound: float) -> np.ndarray:
    """Return the mean over episodes of each dimension's share clipped by the bound."""
    norm = Normalizer.fit(np.concatenate(actions))
    shares = []
    for episode in actions:
        bounded = norm.denormalize(np.clip(norm.normalize(episode), -bound, bound))
        shares.append(np.abs(episode - bounded).sum(0) / np.abs(episode).sum(0).clip(1e-9))
    return np.mean(shares, axis=0)


def main() -> None:
    """Print one line per file: its clipped share per action dimension."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[1])
    parser.add_argument('paths', nargs='+')
    parser.add_argument('--demos', type=int, default=50)
    parser.add_argument('--bound', type=float, default=1.0)
    args = parser.parse_args()
    for path in args.paths:
        episodes = read_demos(path, DEFAULT_OBS_KEYS).episodes[:args.demos]
        share = clipped_share([episode.actions for episode in episodes], args.bound)
        print(path, ' '.join(f'{value:.2f}' for value in share))


if __name__ == '__main__':
    main()
