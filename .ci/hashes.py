"""Pin each requirement to the SHA-256 of the file pip installs (`make hashes`), so that `make install`
runs pip with --require-hashes: a file changed on an index, or swapped on the way, is refused.

Resolves the pins in a throwaway virtualenv (`pip install --dry-run --ignore-installed --report`:
what a fresh `make install-dev` would pick on this platform), then rewrites requirements.txt and
requirements-dev.txt with each pin followed by its hash, comments and order kept. A package the
pins do not list (a new transitive dependency) or a version other than the pinned one stops it,
naming it: pin it first. Run after changing a pin, on the platform the servers and CI use.

    python .ci/hashes.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("requirements.txt", "requirements-dev.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#\\]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(text: str) -> list[str]:
    """The file's lines with `\\` continuations joined and hash options left out."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [re.sub(r"\s*--hash=\S+", "", line).rstrip() for line in joined.splitlines()]


def resolved(pins: list[str]) -> dict[str, tuple[str, str]]:
    """name -> (version, sha256) of what pip installs for `pins` in a new virtualenv."""
    with tempfile.TemporaryDirectory() as folder:
        place = Path(folder)
        venv.create(place / "venv", with_pip=True)
        (place / "pins.txt").write_text("\n".join(pins) + "\n")
        command = [
            str(place / "venv" / "bin" / "pip"),
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
        ]
        command += ["--report", str(place / "report.json"), "-r", str(place / "pins.txt")]
        subprocess.run(command, check=True)  # noqa: S603 - pip beside the new virtualenv, our own pins
        report = json.loads((place / "report.json").read_text())
    found = {}
    for item in report["install"]:
        hashes = item["download_info"].get("archive_info", {}).get("hashes", {})
        found[normalise(item["metadata"]["name"])] = (item["metadata"]["version"], hashes.get("sha256", ""))
    return found


def main() -> int:
    texts = {name: logical_lines((ROOT / name).read_text()) for name in FILES}
    pins = {}
    for lines in texts.values():
        for line in lines:
            if match := PIN.match(line.split("#", 1)[0].strip()):
                pins[normalise(match.group(1))] = match.group(3)
    found = resolved([f"{name}=={version}" for name, version in pins.items()])
    unlisted = sorted(set(found) - set(pins) - {"pip"})  # pip: the virtualenv's own, when pinned
    wrong = sorted(name for name, version in pins.items() if found.get(name, (version,))[0] != version)
    if unlisted or wrong:
        print(f"pin these first: not listed {unlisted}; resolved to another version {wrong}")
        return 1
    for name, lines in texts.items():
        out = []
        for line in lines:
            match = PIN.match(line.split("#", 1)[0].strip())
            if match is None:
                out.append(line)
                continue
            digest = found[normalise(match.group(1))][1]
            if not digest:
                print(f"{name}: no SHA-256 for {match.group(1)}")
                return 1
            out.append(f"{line} \\\n    --hash=sha256:{digest}")
        (ROOT / name).write_text("\n".join(out) + "\n")
    print(f"{len(pins)} pins hashed in {', '.join(FILES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
