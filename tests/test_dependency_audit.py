"""`make audit` (.ci/audit.py) cannot pass falsely (issue 15, item 12): pip-audit without --strict
says "No known vulnerabilities found" and exits 0 when it reached no vulnerability data at all.
The wrapper is run against a stand-in pip-audit for each way a run can end, and once for real."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / ".ci" / "audit.py"

# The stand-in: answers as pip-audit 2.10 does, by FAKE_AUDIT, to --strict and without it.
STAND_IN = r"""
import json, os, sys
arguments = sys.argv[1:]
strict = "--strict" in arguments
output = arguments[arguments.index("--output") + 1]
mode = os.environ["FAKE_AUDIT"]
names = [("flask", "3.1.3"), ("werkzeug", "3.1.9"), ("openpyxl", "3.1.5")]

def write(dependencies):
    with open(output, "w") as handle:
        json.dump({"dependencies": dependencies, "fixes": []}, handle)

def audited(vulns=None):
    return [{"name": n, "version": v, "vulns": (vulns or {}).get(n, [])} for n, v in names]

NOT_FOUND = "Dependency not found on PyPI and could not be audited"

def not_found(name, version):
    return {"name": name, "skip_reason": f"{NOT_FOUND}: {name} ({version})"}

def refuse(name):
    print(f"ERROR:pip_audit._cli:{name}: {NOT_FOUND}", file=sys.stderr)
    sys.exit(1)

def clean_exit(dependencies):
    write(dependencies)
    print("No known vulnerabilities found")
    sys.exit(0)

if mode == "clean":
    clean_exit(audited())
if mode == "offline":  # a registry mirror answers, the vulnerability data does not
    if strict:
        refuse("flask")
    clean_exit([not_found(n, v) for n, v in names])
if mode == "no-network":
    print("requests.exceptions.ConnectionError: HTTPSConnectionPool: Max retries exceeded", file=sys.stderr)
    sys.exit(1)
if mode == "vulnerable":
    write(audited({"werkzeug": [{"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["3.1.10"], "aliases": []}]}))
    print("Found 1 known vulnerability in 1 package"); sys.exit(1)
if mode == "partial":
    if strict:
        refuse("openpyxl")
    clean_exit(audited()[:2] + [not_found("openpyxl", "3.1.5")])
if mode == "lying":  # --strict exits 0 yet the report holds a skipped package
    write([not_found(n, v) for n, v in names]); sys.exit(0)
print("usage: pip-audit [-h] ...\npip-audit: error: unrecognized arguments", file=sys.stderr)
sys.exit(2)
"""


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    path = tmp_path / "pip-audit"
    path.write_text(f"#!{sys.executable}\n{STAND_IN}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def audit(pip_audit: Path | str | None, mode: str = "", required: bool = False) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("VAT_PIP_AUDIT", "VAT_AUDIT_REQUIRED")}
    if pip_audit is not None:
        environment["VAT_PIP_AUDIT"] = str(pip_audit)
    environment["FAKE_AUDIT"] = mode
    if required:
        environment["VAT_AUDIT_REQUIRED"] = "1"
    done = subprocess.run(
        [sys.executable, str(AUDIT)], env=environment, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout + done.stderr


def test_every_package_audited_and_none_vulnerable_is_ok(stand_in):
    assert audit(stand_in, "clean") == (0, "ok: 3 pinned packages audited; no known vulnerabilities\n")


@pytest.mark.parametrize("mode", ["offline", "no-network"])
def test_unreachable_vulnerability_data_is_said_to_be_skipped_never_ok(stand_in, mode):
    status, said = audit(stand_in, mode)
    assert status == 0
    assert said.startswith("skipped: vulnerability data unreachable")
    assert "NOT audited" in said
    assert "ok:" not in said and "No known vulnerabilities" not in said


@pytest.mark.parametrize("mode", ["offline", "no-network"])
def test_unreachable_data_fails_where_the_audit_is_required(stand_in, mode):
    status, said = audit(stand_in, mode, required=True)
    assert status == 1
    assert said.startswith("skipped: vulnerability data unreachable")
    assert "failed: VAT_AUDIT_REQUIRED=1" in said


def test_a_known_vulnerability_fails_naming_it_and_its_fix(stand_in):
    status, said = audit(stand_in, "vulnerable")
    assert status == 1
    assert "failed: 1 packages with known vulnerabilities" in said
    assert "werkzeug 3.1.9: GHSA-xxxx-yyyy-zzzz (fixed in 3.1.10)" in said


def test_some_packages_not_audited_fails(stand_in):
    status, said = audit(stand_in, "partial")
    assert status == 1
    assert "failed: 1 of 3 packages could not be audited" in said and "openpyxl (3.1.5)" in said


@pytest.mark.parametrize("mode", ["lying", "usage-error"])
def test_anything_else_fails(stand_in, mode):
    status, said = audit(stand_in, mode)
    assert status == 1 and said.startswith("failed:")


def test_a_missing_pip_audit_fails(tmp_path):
    status, said = audit(tmp_path / "no-such-pip-audit")
    assert status == 1 and said.startswith("failed: pip-audit is not installed")


def test_the_real_pip_audit_on_the_pinned_requirements_is_never_silently_green():
    """Here the vulnerability data is out of reach: the run says so. Where it is reachable, the
    run audits every pin (ok) or fails."""
    status, said = audit(None)
    first = said.splitlines()[0]
    assert first.startswith(("ok: ", "skipped: vulnerability data unreachable", "failed: ")), said
    assert (status == 0) == first.startswith(("ok: ", "skipped: ")), said
    if first.startswith("ok: "):
        requirements = [
            line
            for name in ("requirements.txt", "requirements-dev.txt")
            for line in (ROOT / name).read_text().splitlines()
            if "==" in line and not line.startswith("#")
        ]
        assert f"ok: {len(requirements)} pinned packages" in first
    json.dumps(said)  # printable as it is
