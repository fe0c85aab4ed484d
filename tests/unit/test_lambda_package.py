"""Deterministic Lambda packaging: same sources, same bytes; the handler where
the function's handler string expects it."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from constructs_lib.lambda_package import (
    LAMBDA_SOURCE_ROOT,
    SECRET_ROTATION_HANDLER,
    build_zip,
)

REPO = Path(__file__).resolve().parents[2]


def copy_sources(target: Path) -> Path:
    shutil.copytree(LAMBDA_SOURCE_ROOT, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def forget_zip_imports() -> Iterator[None]:
    """Keep modules imported from a temporary zip out of later tests."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_same_sources_give_the_same_bytes_even_after_touching_mtimes(tmp_path):
    first = build_zip(LAMBDA_SOURCE_ROOT, tmp_path / "first.zip").read_bytes()
    sources = copy_sources(tmp_path / "src")
    for index, path in enumerate(sorted(sources.rglob("*"))):
        os.utime(path, (1_700_000_000 + index, 1_700_000_000 + index))
        if path.is_file():
            path.chmod(0o600)
    (sources / "secret_rotation" / "__pycache__").mkdir()
    (sources / "secret_rotation" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"x")
    (sources / "secret_rotation" / "stale.pyc").write_bytes(b"x")

    second = build_zip(sources, tmp_path / "second.zip").read_bytes()
    again = build_zip(sources, tmp_path / "second.zip").read_bytes()

    assert first == second == again


def test_archive_holds_the_handler_files_only_with_fixed_metadata(tmp_path):
    sources = copy_sources(tmp_path / "src")
    (sources / "secret_rotation" / "__pycache__").mkdir()
    (sources / "secret_rotation" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"x")

    with zipfile.ZipFile(build_zip(sources, tmp_path / "out" / "rotation.zip")) as archive:
        infos = archive.infolist()

    names = [info.filename for info in infos]
    assert "secret_rotation/handler.py" in names
    assert names == sorted(names)
    assert not [n for n in names if n.endswith((".pyc", "/")) or "__pycache__" in n]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_handler_string_resolves_inside_the_zip(tmp_path, monkeypatch, forget_zip_imports):
    archive = build_zip(LAMBDA_SOURCE_ROOT, tmp_path / "rotation.zip")
    module_name, function_name = SECRET_ROTATION_HANDLER.rsplit(".", 1)
    # Import from the zip the way the Lambda runtime imports from its task root.
    for name in [n for n in sys.modules if n.split(".")[0] == "secret_rotation"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(archive))

    module = importlib.import_module(module_name)

    assert Path(module.__file__).is_relative_to(archive)
    assert callable(getattr(module, function_name))


def test_missing_or_empty_source_directory_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist or is not a directory"):
        build_zip(tmp_path / "absent", tmp_path / "out.zip")
    (tmp_path / "empty" / "__pycache__").mkdir(parents=True)
    with pytest.raises(ValueError, match="holds no files to package"):
        build_zip(tmp_path / "empty", tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_command_line_writes_the_same_zip(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "constructs_lib.lambda_package",
         str(LAMBDA_SOURCE_ROOT), str(tmp_path / "cli.zip")],
        cwd=REPO, check=True, capture_output=True,
    )
    assert (tmp_path / "cli.zip").read_bytes() == build_zip(
        LAMBDA_SOURCE_ROOT, tmp_path / "api.zip").read_bytes()
