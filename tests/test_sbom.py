"""`make sbom` (.ci/sbom.py, ASVS 15.1.2): every pinned requirement in the bill, with its exact
version and package URL, runtime pins required and test-only pins optional."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "sbom.py"


def _module():
    spec = importlib.util.spec_from_file_location("sbom", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_pinned_requirement_is_a_component(tmp_path):
    output = tmp_path / "sbom.cdx.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(output)], capture_output=True, text=True, check=True
    )
    bill = json.loads(output.read_text())
    assert bill["bomFormat"] == "CycloneDX" and bill["specVersion"] == "1.5"
    components = {c["name"]: c for c in bill["components"]}
    assert f"{len(components)} components" in done.stdout
    sbom = _module()
    runtime = sbom.pins(ROOT / "requirements.txt")
    for name, version in runtime:
        assert components[name]["version"] == version
        assert components[name]["purl"] == f"pkg:pypi/{name}@{version}"
        assert components[name]["scope"] == "required"
    for name, version in sbom.pins(ROOT / "requirements-dev.txt"):
        assert components[name]["version"] == version
        if (name, version) not in runtime:
            assert components[name]["scope"] == "optional"
    assert components["psycopg"]["version"] == "3.3.9", "an extra ([binary]) is not part of the name"
    assert {d["ref"] for d in bill["dependencies"]} == {"vat-ledger"}
    assert len(bill["dependencies"][0]["dependsOn"]) == len(components)


def test_an_unpinned_line_is_refused(tmp_path):
    loose = tmp_path / "requirements.txt"
    loose.write_text("flask==3.1.3\nwerkzeug>=3\n")
    with pytest.raises(SystemExit, match="requirements.txt:2: not pinned"):
        _module().pins(loose)


def test_every_pin_carries_a_hash_and_make_installs_with_require_hashes():
    """A pin added without its hash would make `make install` refuse everything: caught here first."""
    for name in ("requirements.txt", "requirements-dev.txt"):
        text = (ROOT / name).read_text()
        pinned = [line for line in text.splitlines() if "==" in line.split("#", 1)[0]]
        assert pinned and all(line.endswith(" \\") for line in pinned), name
        hashes = re.findall(r"^    --hash=sha256:[0-9a-f]{64}$", text, flags=re.MULTILINE)
        assert len(hashes) == len(pinned) == len(_module().pins(ROOT / name)), name
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"pip install .*-r requirements.*\.txt", makefile)
    assert len(installs) == 2 and all("--require-hashes" in line for line in installs)
