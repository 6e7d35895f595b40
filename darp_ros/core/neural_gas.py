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

"""Batch neural gas: a few representative points that follow the density of the data."""

import math

from darp_ros.core.errors import ConfigError
import torch

# Units ranked beyond ~6 lambda get weight exp(-6) or less; ignoring them saves a full sort.
RANK_CUTOFF = 6.0
CHUNK = 8192


def neural_gas(data: torch.Tensor, units: int, iterations: int = 30, seed: int = 0,
               lambda_start: float = 10.0, lambda_end: float = 0.01) -> torch.Tensor:
    """
    Place `units` prototypes on data (N, D) by batch neural gas; returns (units, D).

    Each iteration moves every prototype to the mean of the data weighted by
    exp(-rank / lambda), rank being its distance rank among prototypes for that point;
    lambda decays geometrically so the gas goes from global ordering to local k-means.
    """
    n = data.shape[0]
    if not 1 <= units <= n:
        raise ConfigError(f'neural gas needs 1 <= units <= {n} data points, got {units}')
    generator = torch.Generator().manual_seed(seed)
    protos = data[torch.randperm(n, generator=generator)[:units].to(data.device)].clone()
    lambda_start = min(lambda_start, units / 2.0)
    lambda_end = min(lambda_end, lambda_start)
    for it in range(iterations):
        frac = it / max(iterations - 1, 1)
        lam = lambda_start * (lambda_end / lambda_start) ** frac
        reach = min(units, int(math.ceil(RANK_CUTOFF * lam)) + 1)
        weight_of_rank = torch.exp(-torch.arange(reach, device=data.device) / lam)
        numerator = torch.zeros_like(protos)
        denominator = torch.zeros(units, device=data.device)
        for first in range(0, n, CHUNK):
            chunk = data[first:first + CHUNK]
            nearest = torch.topk(torch.cdist(chunk, protos), reach, dim=1, largest=False).indices
            weights = weight_of_rank.expand_as(nearest)
            denominator.index_add_(0, nearest.reshape(-1), weights.reshape(-1))
            spread = torch.zeros(chunk.shape[0], units, device=data.device)
            spread.scatter_(1, nearest, weights)
            numerator += spread.T @ chunk
        alive = denominator > 0
        protos[alive] = numerator[alive] / denominator[alive, None]
    return protos


def snap_to_samples(protos: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """Row ids of the real samples nearest to each prototype, duplicates removed, sorted."""
    nearest = []
    for first in range(0, protos.shape[0], CHUNK):
        nearest.append(torch.cdist(protos[first:first + CHUNK], data).argmin(dim=1))
    return torch.unique(torch.cat(nearest))
