"""``pip install`` builds the package without setuptools warnings (it printed the deprecated
``project.license`` table warning four times) and declares the MIT licence as an SPDX expression."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def test_building_the_metadata_warns_about_nothing(tmp_path: Path) -> None:
    # What pip runs first on `pip install`: the backend's metadata hook, with warnings shown.
    script = (
        "import sys, setuptools.build_meta as backend; "
        "print(backend.prepare_metadata_for_build_wheel(sys.argv[1]))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", script, str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "deprecated" not in output.lower() and "Warning" not in output
    metadata = (tmp_path / result.stdout.strip().splitlines()[-1] / "METADATA").read_text()
    assert "License-Expression: MIT" in metadata.splitlines()
