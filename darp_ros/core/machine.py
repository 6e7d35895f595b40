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
The machine a number was made on, for the records that carry numbers.

Timings depend on it, and so can weights: torch picks its CPU kernels by instruction set
(AVX2, AVX512, ...), and kernels that sum in another order give other float roundings. The
same seeded training, run again on another machine, can drift (RESULTS.md's two image
trunks), so training and pretraining records name the machine beside benchmarks.
"""

import os
import platform

import faiss
import torch


def cpu_name() -> str:
    """Return the CPU's model name (Linux), else what platform knows."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as info:
            for line in info:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """Return what numbers and float roundings depend on: CPU, kernels, cores, GPU, versions."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {'cpu': cpu_name(), 'cpu_capability': torch.backends.cpu.get_cpu_capability(),
            'cores': os.cpu_count(), 'torch_threads': torch.get_num_threads(), 'gpu': gpu,
            'python': platform.python_version(), 'torch': torch.__version__,
            'faiss': faiss.__version__, 'faiss_gpus': faiss.get_num_gpus(),
            'load_average': list(os.getloadavg())}
