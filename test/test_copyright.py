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

"""ament's copyright check; skipped where ament_copyright is absent (it is not on PyPI)."""

from pathlib import Path

import pytest

main = pytest.importorskip('ament_copyright.main').main

# Only the package's own files: a virtual environment inside the checkout is not ours.
ROOT = Path(__file__).resolve().parents[1]
SOURCES = [str(ROOT / p) for p in ('darp_ros', 'test', 'launch', 'setup.py')]


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    rc = main(argv=SOURCES)
    assert rc == 0, 'Found errors'
