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

"""Exact nearest-neighbour search in torch: the index backend that needs no faiss GPU build."""

import torch

# One query-by-database block holds at most this many floats (64 MiB).
BLOCK_FLOATS = 1 << 24


class ExactTorchSearch:
    """Squared Euclidean distances by one matrix product per block of queries, then top-k."""

    def __init__(self, vectors, device: str):
        """Hold vectors (N, dim) float32 numpy on device, with their squared norms."""
        self.vectors = torch.from_numpy(vectors).to(device)
        self.sq_norms = (self.vectors * self.vectors).sum(dim=1)

    @torch.inference_mode()
    def search(self, queries: torch.Tensor, k: int):
        """Return (squared distances, ids) as numpy (B, k), nearest first."""
        # Queries go in blocks so memory stays O(block) rather than O(B * N).
        rows = max(1, BLOCK_FLOATS // max(1, self.vectors.shape[0]))
        all_d, all_i = [], []
        for start in range(0, queries.shape[0], rows):
            block = queries[start:start + rows]
            sq = torch.addmm(self.sq_norms.unsqueeze(0), block, self.vectors.T, alpha=-2.0)
            sq += (block * block).sum(dim=1, keepdim=True)
            d, i = torch.topk(sq, k, dim=1, largest=False, sorted=True)
            all_d.append(d)
            all_i.append(i)
        return torch.cat(all_d).cpu().numpy(), torch.cat(all_i).cpu().numpy()
