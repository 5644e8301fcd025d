"""The README and docs stand alone (issue 19, item 8): every relative link names a file in the
repository; none leaves it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)[^)]*\)|`(\.\./[^`]+)`")


def test_no_link_leaves_the_repository():
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in LINK.finditer(document.read_text()):
            target = match.group(1) or match.group(2)
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (document.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{document.name}: {target} leaves the repository"
            assert resolved.exists(), f"{document.name}: {target} does not exist"
