"""The software bill of materials (`make sbom`, ASVS 15.1.2): every pinned requirement as a
CycloneDX 1.5 component — name, exact version, package URL, whether it runs in production
(`required`) or only for tests and lint (`optional`), and, where it is installed, its licence and
the SHA-256 of its installed metadata. Read from the pins, so it lists exactly what `make install`
installs; no network, no new dependency.

    python .ci/sbom.py [OUTPUT]      # default instance/sbom.cdx.json
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FILES = (("requirements.txt", "required"), ("requirements-dev.txt", "optional"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


def normalise(name: str) -> str:
    """PEP 503: the name as package URLs and indexes spell it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> list[tuple[str, str]]:
    """(name, version) of each `name==version` line; a line that pins nothing is an error."""
    found = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip().removesuffix("\\").strip()
        if not line or line.startswith(("-r", "--hash=")):  # a pin's hash, on the line after it
            continue
        match = PIN.match(line)
        if match is None:
            raise SystemExit(f"{path.name}:{number}: not pinned with == ({line})")
        found.append((normalise(match.group(1)), match.group(2)))
    return found


def installed(name: str, version: str) -> dict[str, Any]:
    """What the installed distribution says of itself, if this exact version is installed."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return {}
    if dist.version != version:
        return {}
    extra: dict[str, Any] = {}
    licence = dist.metadata.get("License-Expression") or dist.metadata.get("License")
    if licence and len(licence) < 100:
        extra["licenses"] = [{"license": {"name": licence.strip()}}]
    text = dist.read_text("METADATA")
    if text:
        extra["hashes"] = [{"alg": "SHA-256", "content": hashlib.sha256(text.encode()).hexdigest()}]
    return extra


def bill() -> dict[str, Any]:
    components: dict[str, dict[str, Any]] = {}
    for filename, scope in FILES:
        for name, version in pins(ROOT / filename):
            if name in components:
                continue  # a runtime pin repeated for the tests stays "required"
            components[name] = {
                "type": "library",
                "bom-ref": f"pkg:pypi/{name}@{version}",
                "name": name,
                "version": version,
                "purl": f"pkg:pypi/{name}@{version}",
                "scope": scope,
                **installed(name, version),
            }
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "component": {"type": "application", "name": "vat-ledger", "bom-ref": "vat-ledger"},
            "tools": {"components": [{"type": "application", "name": ".ci/sbom.py"}]},
        },
        "components": sorted(components.values(), key=lambda c: c["name"]),
        "dependencies": [
            {"ref": "vat-ledger", "dependsOn": sorted(c["bom-ref"] for c in components.values())}
        ],
    }


def main(arguments: list[str]) -> int:
    output = Path(arguments[0]) if arguments else ROOT / "instance" / "sbom.cdx.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    document = bill()
    output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"{output}: {len(document['components'])} components")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
