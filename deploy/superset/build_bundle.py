"""Build the importable Superset/Preset ZIP from the YAML files under ``bundle/``.

    python deploy/superset/build_bundle.py [--out deploy/superset/dist/chatpulse_superset.zip]
    python deploy/superset/build_bundle.py --sqlalchemy-uri "$CHATPULSE_SUPERSET_URI"
    make superset-bundle

Without ``--sqlalchemy-uri`` the database keeps Superset's password mask (``XXXXXXXXXX``): the
import dialog of Superset and Preset then asks for the password. ``superset import-dashboards``
cannot ask and refuses a masked password, so unattended imports (the Docker Compose stack, the
tests) bake the real URI into their own copy of the ZIP; never commit such a copy.

Superset's importer expects one top-level folder inside the ZIP holding ``metadata.yaml`` and
the ``databases/``, ``datasets/``, ``charts/`` and ``dashboards/`` folders (the layout its own
"Export" writes). Standard library only, so it runs in any Python 3.11+.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLE_DIR = HERE / "bundle"
DEFAULT_OUT = HERE / "dist" / "chatpulse_superset.zip"
ROOT_FOLDER = "chatpulse_dashboard"
# Fixed timestamp inside the ZIP so the same YAML always gives the same bytes.
_EPOCH = (2026, 1, 1, 0, 0, 0)
_URI_LINE = re.compile(r"^sqlalchemy_uri:.*$", re.MULTILINE)


def bundle_files(bundle_dir: Path = BUNDLE_DIR) -> list[Path]:
    """The YAML files that make the bundle, sorted (metadata.yaml first)."""
    files = sorted(p for p in bundle_dir.rglob("*.yaml") if p.is_file())
    if not any(p.name == "metadata.yaml" and p.parent == bundle_dir for p in files):
        raise FileNotFoundError(f"{bundle_dir}/metadata.yaml is missing")
    return sorted(files, key=lambda p: (p.name != "metadata.yaml", str(p)))


def with_uri(yaml_text: str, sqlalchemy_uri: str) -> str:
    """A database YAML with its ``sqlalchemy_uri`` replaced (JSON strings are valid YAML)."""
    if not sqlalchemy_uri.startswith("clickhousedb://"):
        raise ValueError("the ChatPulse bundle needs a clickhousedb:// URI (clickhouse-connect's dialect)")
    replaced, count = _URI_LINE.subn(lambda _: f"sqlalchemy_uri: {json.dumps(sqlalchemy_uri)}", yaml_text)
    if count != 1:
        raise ValueError("database YAML must have exactly one sqlalchemy_uri line")
    return replaced


def build(out: Path = DEFAULT_OUT, bundle_dir: Path = BUNDLE_DIR, sqlalchemy_uri: str | None = None) -> Path:
    """Write the ZIP to ``out`` (parents created) and return its path.

    ``sqlalchemy_uri`` replaces the database's masked URI (for unattended imports).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in bundle_files(bundle_dir):
            name = f"{ROOT_FOLDER}/{path.relative_to(bundle_dir).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            if sqlalchemy_uri is not None and path.parent.name == "databases":
                data = with_uri(data.decode("utf-8"), sqlalchemy_uri).encode("utf-8")
            archive.writestr(info, data)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"ZIP to write (default {DEFAULT_OUT})")
    parser.add_argument(
        "--sqlalchemy-uri",
        default=None,
        help="clickhousedb://user:password@host:port/db to bake in (unattended import); default: masked",
    )
    args = parser.parse_args(argv)
    try:
        path = build(args.out, sqlalchemy_uri=args.sqlalchemy_uri)
    except (ValueError, FileNotFoundError) as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
