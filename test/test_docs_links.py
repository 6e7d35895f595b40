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
Every relative link in the README and docs/ leads somewhere.

docs/RESULTS.md is long and read by jumping between its sections, and its headings get
renamed as results change: a link to a renamed heading or a moved result file fails
silently on GitHub, so it fails here. Anchors follow GitHub's rule (lower case,
punctuation dropped, spaces to hyphens, -1, -2 for repeats).
"""

import os
from pathlib import Path
import re

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / 'README.md', *sorted((ROOT / 'docs').rglob('*.md'))]
LINK = re.compile(r'\]\(([^)\s]*)\)')
FENCE = re.compile(r'^```.*?^```', re.S | re.M)


def heading_anchors(text: str) -> set:
    anchors, seen = set(), {}
    for heading in re.findall(r'^#+ (.*)$', FENCE.sub('', text), re.M):
        slug = re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')
        repeat = seen.get(slug, 0)
        anchors.add(slug if repeat == 0 else f'{slug}-{repeat}')
        seen[slug] = repeat + 1
    return anchors


def broken_links(document: Path) -> list:
    broken, anchors = [], {}    # anchors: each linked file's headings, read once
    for target in LINK.findall(FENCE.sub('', document.read_text())):
        if target.startswith(('http://', 'https://', 'mailto:')):
            continue
        path, _, anchor = target.partition('#')
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f'{target}: no file {os.path.relpath(linked, ROOT)}')
        elif anchor and linked.suffix == '.md':
            if linked not in anchors:
                anchors[linked] = heading_anchors(linked.read_text())
            if anchor not in anchors[linked]:
                broken.append(f'{target}: no heading with anchor #{anchor}')
    return broken


@pytest.mark.parametrize('document', DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    assert broken_links(document) == []


def test_a_renamed_heading_is_caught(tmp_path):
    document = tmp_path / 'notes.md'
    document.write_text('# Results, redone\n\nSee [the table](#results-redone) and '
                        '[the old one](#results).\n\n```\n# not a heading\n```\n')
    assert broken_links(document) == ['#results: no heading with anchor #results']
