"""fast_synth refuses a jsii release it was not written for: it reaches into
jsii's private attributes, and a release may change them without notice."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import fast_synth

REPO = Path(__file__).resolve().parents[2]


def test_the_installed_and_pinned_jsii_are_ones_it_was_written_for():
    pins = re.findall(r"^jsii==(\S+)", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert pins, "requirements.txt no longer pins jsii; fast_synth.JSII_VERSIONS needs a pin"
    assert set(pins) <= set(fast_synth.JSII_VERSIONS)
    fast_synth.check_jsii_version()


@pytest.mark.parametrize(("version", "said"), [
    ("1.143.0", "but jsii 1.143.0 is installed"),
    (None, "but no jsii is installed"),
])
def test_another_jsii_is_refused_with_what_to_do(monkeypatch, version, said):
    monkeypatch.setattr(fast_synth, "installed_jsii_version", lambda: version)
    with pytest.raises(RuntimeError) as error:
        fast_synth.check_jsii_version()
    message = str(error.value)
    assert f"written for jsii {fast_synth.JSII_VERSIONS[0]}" in message
    assert said in message
    assert "Set CDKTF_FAST_SYNTH=0" in message
    assert "add the version to JSII_VERSIONS" in message


def test_switched_off_it_does_not_ask(monkeypatch):
    """CDKTF_FAST_SYNTH=0 is the way out the message names, so it must work."""
    monkeypatch.setenv("CDKTF_FAST_SYNTH", "0")
    monkeypatch.setattr(fast_synth, "installed_jsii_version", lambda: "1.143.0")
    assert fast_synth.enable() is None


def test_enable_refuses_before_it_changes_anything(tmp_path):
    # In a child: this process has run enable() already (tests/unit/conftest.py).
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys, fast_synth\n"
         "fast_synth.installed_jsii_version = lambda: '1.143.0'\n"
         "try:\n"
         "    fast_synth.enable()\n"
         "except RuntimeError as error:\n"
         "    print(error, file=sys.stderr)\n"
         "print(sorted({'cdktf_cdktf_provider_aws', 'jsii'} & set(sys.modules)))\n"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "CDKTF_FAST_SYNTH": "1", "TMPDIR": str(tmp_path)},
    )
    assert "but jsii 1.143.0 is installed" in probe.stderr, probe.stderr
    assert probe.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []
