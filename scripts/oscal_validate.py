#!/usr/bin/env python3
"""Validates OSCAL 1.1.3 assessment-results documents with two independent validators.

Usage: oscal_validate.py FILE.json [FILE.json ...]

1. NIST's published JSON Schema for OSCAL 1.1.3 assessment results (vendored, unmodified, in
   tests/fixtures/oscal/; its SHA-256 is checked first), with check-jsonschema (formats
   checked; the schema's Unicode regex classes such as \\p{L} are evaluated by `regress`).
2. compliance-trestle's OSCAL 1.1.3 models: the document is read with `oscal_read` into
   `trestle.oscal.assessment_results.AssessmentResults` (pydantic validation of every field).

Run it with the project's tool virtualenv (scripts/python-tools.sh prints its bin folder): both
validators are imported from there. Exits 0 when every file passes both; otherwise prints each
validator's own message and exits 1 (2 for a usage or setup error).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "fixtures" / "oscal" / "oscal_assessment-results_schema.json"
SCHEMA_SHA256 = "d9e34757f0c12aff61f52b821f0b8f83ba0ba75b3a149a202b08ba82f82bc4c3"
OSCAL_VERSION = "1.1.3"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def check_schema_file() -> None:
    digest = hashlib.sha256(SCHEMA.read_bytes()).hexdigest()
    if digest != SCHEMA_SHA256:
        sys.exit(f"setup error: {SCHEMA} is not NIST's v1.1.3 release asset (sha256 {digest})")


def with_check_jsonschema(path: pathlib.Path) -> str | None:
    """NIST's JSON Schema: the failure message, or None."""
    cli = pathlib.Path(sys.executable).parent / "check-jsonschema"
    if not cli.exists():
        sys.exit(f"setup error: {cli} is missing; run scripts/python-tools.sh")
    run = subprocess.run(
        [str(cli), "--schemafile", str(SCHEMA), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode == 0:
        return None
    return (run.stdout + run.stderr).strip() or f"check-jsonschema exited {run.returncode}"


def with_trestle(path: pathlib.Path) -> str | None:
    """compliance-trestle's OSCAL models: the failure message, or None."""
    try:
        from trestle.oscal import OSCAL_VERSION as TRESTLE_OSCAL
        from trestle.oscal.assessment_results import AssessmentResults
    except ImportError as e:  # pragma: no cover - setup problem
        sys.exit(f"setup error: compliance-trestle is not installed ({e}); run scripts/python-tools.sh")
    if TRESTLE_OSCAL != OSCAL_VERSION:
        sys.exit(f"setup error: compliance-trestle models OSCAL {TRESTLE_OSCAL}, not {OSCAL_VERSION}")
    try:
        model = AssessmentResults.oscal_read(path)
    except Exception as e:  # trestle raises its own error types wrapping pydantic's
        return f"{type(e).__name__}: {e}"
    if model is None:
        return "compliance-trestle read nothing from the file"
    # Round trip: what trestle writes back is the same document (trestle writes time zones as
    # +00:00 where we write Z: timestamps are compared as instants). Nothing was dropped.
    written = normalised(json.loads(model.oscal_serialize_json(pretty=False)))
    original = normalised(json.loads(path.read_text(encoding="utf-8")))
    if written != original:
        return "compliance-trestle's round trip changed the document"
    return None


def normalised(value):
    """The document with its timestamps as `datetime` values."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str) and TIMESTAMP.match(value):
        return datetime.datetime.fromisoformat(value)
    return value


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    check_schema_file()
    failed = False
    for name in argv[1:]:
        path = pathlib.Path(name)
        for validator, check in (("NIST JSON schema (check-jsonschema)", with_check_jsonschema),
                                 ("compliance-trestle", with_trestle)):
            problem = check(path)
            if problem is None:
                print(f"{path}: valid ({validator})")
            else:
                failed = True
                print(f"{path}: INVALID ({validator}):\n{problem}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
