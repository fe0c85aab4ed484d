"""Byte-for-byte reproducible Lambda zips: `build_zip(source_dir, dest)`, or
`python -m constructs_lib.lambda_package SOURCE_DIR DEST_ZIP`.

The zip is what `LambdaFunctionProps.package` takes, so it lives beside the
construct: stacks build their packages without importing the top layer (synth/,
local_deploy/, scripts/)."""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

LAMBDA_SOURCE_ROOT = Path(__file__).resolve().parent.parent / "lambda_src"
"""The zip root of our Lambda code: handlers are addressed relative to it."""
SECRET_ROTATION_HANDLER = "secret_rotation.handler.lambda_handler"
"""The rotation function's handler in a zip built from LAMBDA_SOURCE_ROOT."""

# The earliest time a zip header can hold; mtimes of a checkout must not leak in.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
COMPRESS_LEVEL = 9
EXCLUDED_DIRS = frozenset({"__pycache__"})
EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo"})


def package_files(source_dir: Path) -> list[tuple[str, Path]]:
    """(archive name, file) for everything packaged from `source_dir`, sorted by
    archive name: bytecode caches are left out, the runtime compiles its own."""
    entries = []
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir)
        if EXCLUDED_DIRS.intersection(relative.parts) or path.suffix in EXCLUDED_SUFFIXES:
            continue
        if path.is_file():
            entries.append((relative.as_posix(), path))
    return sorted(entries)


def build_zip(source_dir: Path, dest: Path) -> Path:
    """Zip the files under `source_dir` into `dest` (parents created, replaced
    atomically) and return `dest`. Same file contents give the same bytes:
    sorted entries, no directory entries, fixed timestamps, modes and compression."""
    source_dir, dest = Path(source_dir), Path(dest)
    if not source_dir.is_dir():
        raise ValueError(
            f"Lambda source directory {source_dir} does not exist or is not a directory."
        )
    entries = [(name, path) for name, path in package_files(source_dir)
               if path.resolve() != dest.resolve()]
    if not entries:
        raise ValueError(f"Lambda source directory {source_dir} holds no files to package.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Written beside dest and renamed, so a reader never sees a half-written zip.
    handle, temporary = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name, path in entries:
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
                info.create_system = 3  # Unix, so the mode below is honoured everywhere
                info.external_attr = (stat.S_IFREG | FILE_MODE) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, dest)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m constructs_lib.lambda_package", description=__doc__)
    parser.add_argument("source_dir", type=Path, help="directory that becomes the zip root")
    parser.add_argument("dest", type=Path, help="zip file to write")
    args = parser.parse_args(argv)
    try:
        print(build_zip(args.source_dir, args.dest))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
