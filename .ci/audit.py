"""The dependency audit (`make audit`): pip-audit on the pinned requirements, and an answer that
cannot be green by accident.

pip-audit without --strict prints "No known vulnerabilities found" and exits 0 when it could not
reach its vulnerability data at all: every package is then "skipped", none audited. Here:

- every package audited, none vulnerable (pip-audit --strict exits 0)  → "ok: ...", exit 0
- a package with a known vulnerability                                  → "failed: ...", exit 1
- some packages audited, others not                                     → "failed: ...", exit 1
- no package could be audited (the data is unreachable, as offline)     → "skipped: vulnerability
  data unreachable", exit 0 — or exit 1 when VAT_AUDIT_REQUIRED=1 (a CI that has the network)
- pip-audit missing or failing in another way                           → "failed: ...", exit 1
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
UNREACHABLE_SIGNS = (
    "connectionerror",
    "connection error",
    "timed out",
    "max retries exceeded",
    "failed to establish a new connection",
    "name or service not known",
    "temporary failure in name resolution",
    "network is unreachable",
)


def pip_audit_command() -> list[str]:
    """pip-audit beside this Python (the project's virtualenv), or VAT_PIP_AUDIT (tests)."""
    if os.environ.get("VAT_PIP_AUDIT"):
        given = os.environ["VAT_PIP_AUDIT"]
        return [given] if Path(given).exists() else []
    beside = Path(sys.executable).with_name("pip-audit")
    found = str(beside) if beside.exists() else shutil.which("pip-audit")
    return [found] if found else []


def run(command: list[str], *, strict: bool, output: Path) -> subprocess.CompletedProcess[str]:
    arguments = [*command, "--no-deps", "--disable-pip", "--progress-spinner", "off"]
    for name in REQUIREMENTS:
        arguments += ["--requirement", str(ROOT / name)]
    arguments += ["--format", "json", "--output", str(output)]
    if strict:
        arguments.append("--strict")
    # The arguments are this file's own and pip-audit's path: no input from outside.
    return subprocess.run(arguments, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603


def read_report(path: Path) -> list[dict[str, Any]] | None:
    try:
        dependencies = json.loads(path.read_text())["dependencies"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dependencies if isinstance(dependencies, list) else None


def unreachable(done: subprocess.CompletedProcess[str]) -> bool:
    said = (done.stdout + done.stderr).lower()
    return any(sign in said for sign in UNREACHABLE_SIGNS)


def skipped(reason: str, required: bool) -> int:
    print(f"skipped: vulnerability data unreachable ({reason})")
    if required:
        print("failed: VAT_AUDIT_REQUIRED=1, and no package was audited")
        return 1
    print("The dependencies were NOT audited. Run `make audit` where the vulnerability data is reachable.")
    return 0


def audit(required: bool) -> int:
    command = pip_audit_command()
    if not command:
        print("failed: pip-audit is not installed (make install-dev)")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        strict_report, report = Path(folder) / "strict.json", Path(folder) / "report.json"
        strict = run(command, strict=True, output=strict_report)
        audited = read_report(strict_report)
        if strict.returncode == 0 and audited is not None:
            if any("skip_reason" in d or d.get("vulns") for d in audited):  # pip-audit promises not
                print("failed: pip-audit --strict exited 0 yet reports packages skipped or vulnerable")
                return 1
            print(f"ok: {len(audited)} pinned packages audited; no known vulnerabilities")
            return 0
        # --strict refused: see why, package by package, without it.
        loose = run(command, strict=False, output=report)
        dependencies = read_report(report)
    if dependencies is None:
        if unreachable(strict) or unreachable(loose):
            return skipped("pip-audit could not connect", required)
        print(f"failed: pip-audit exited {strict.returncode}:\n{strict.stdout}{strict.stderr}".rstrip())
        return 1
    vulnerable = [d for d in dependencies if d.get("vulns")]
    not_audited = [d for d in dependencies if "skip_reason" in d]
    if vulnerable:
        print(f"failed: {len(vulnerable)} packages with known vulnerabilities")
        for dependency in vulnerable:
            for vulnerability in dependency["vulns"]:
                fixed = ", ".join(vulnerability.get("fix_versions") or []) or "none yet"
                name = f"{dependency['name']} {dependency.get('version', '')}"
                print(f"  {name}: {vulnerability['id']} (fixed in {fixed})")
        return 1
    if dependencies and len(not_audited) == len(dependencies):
        return skipped(
            f"none of {len(dependencies)} packages could be checked: {not_audited[0]['skip_reason']}",
            required,
        )
    if not_audited:
        print(f"failed: {len(not_audited)} of {len(dependencies)} packages could not be audited")
        for dependency in not_audited:
            print(f"  {dependency['skip_reason']}")
        return 1
    print(f"failed: pip-audit --strict exited {strict.returncode}:\n{strict.stdout}{strict.stderr}".rstrip())
    return 1


if __name__ == "__main__":
    sys.exit(audit(required=os.environ.get("VAT_AUDIT_REQUIRED") == "1"))
