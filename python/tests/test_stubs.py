"""The committed stubs are what the pinned generators make of proto/felund.proto, and
the check that CI runs notices when they are not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("grpc_tools", reason="needs python/requirements-dev.txt installed")

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gen_stubs.py"
PROTO = SCRIPT.parent.parent.parent / "proto" / "felund.proto"


def check(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, SCRIPT, "--check", *extra],
                          capture_output=True, text=True, timeout=120)


def test_the_committed_stubs_match_the_proto() -> None:
    done = check()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "match" in done.stdout


def test_the_check_fails_on_a_proto_the_stubs_were_not_made_from(tmp_path: Path) -> None:
    changed = tmp_path / "felund.proto"
    changed.write_text(PROTO.read_text() + "\nmessage AddedLater { string x = 1; }\n")
    done = check("--proto", str(changed))
    assert done.returncode == 1
    assert "out of date" in done.stderr
    assert "+class AddedLater(_message.Message):" in done.stdout  # the diff shows why
