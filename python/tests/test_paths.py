"""The socket is found by felundctl's rule, and agrees with felundd's own default."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from conftest import bin_path, free_port, wait_until

import felund

from felund.paths import default_state_dir, resolve_socket

HOME = {"HOME": "/home/u"}


def test_explicit_beats_env_beats_default() -> None:
    env = {**HOME, "FELUND_SOCKET": "/env.sock", "XDG_RUNTIME_DIR": "/run/user/1"}
    assert resolve_socket("/x.sock", env, "linux") == Path("/x.sock")
    assert resolve_socket(None, env, "linux") == Path("/env.sock")
    assert resolve_socket(None, {**HOME, "XDG_RUNTIME_DIR": "/run/user/1"}, "linux") == \
        Path("/run/user/1/felund/felundd.sock")


def test_empty_values_count_as_unset() -> None:
    env = {**HOME, "FELUND_SOCKET": "", "XDG_RUNTIME_DIR": "", "FELUND_STATE_DIR": ""}
    assert resolve_socket("", env, "linux") == Path("/home/u/.local/share/felund/felundd.sock")


def test_without_runtime_dir_the_socket_is_in_the_state_dir() -> None:
    assert resolve_socket(None, {**HOME, "FELUND_STATE_DIR": "/st"}, "linux") == \
        Path("/st/felundd.sock")
    # A relative XDG directory is ignored, as the XDG spec (and felundd) require.
    env = {**HOME, "XDG_RUNTIME_DIR": "run", "XDG_DATA_HOME": "data"}
    assert resolve_socket(None, env, "linux") == Path("/home/u/.local/share/felund/felundd.sock")
    assert default_state_dir({**HOME, "XDG_DATA_HOME": "/d"}, "linux") == Path("/d/felund")
    assert default_state_dir(HOME, "darwin") == \
        Path("/home/u/Library/Application Support/felund")


def socket_felundd_binds(env: dict[str, str], expected: Path) -> str:
    """Start felundd with only ``env`` (no --socket, no --state-dir), connect at
    ``expected`` and return the socket path felundd reports."""
    proc = subprocess.Popen([bin_path("felundd"), "--bind", "127.0.0.1", "--port", str(free_port())],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        def serving() -> bool:
            assert proc.poll() is None, f"felundd exited ({proc.returncode})"
            try:
                with felund.Client(expected) as c:
                    return bool(c.get_node_info().socket_path)
            except felund.FelundError:
                return False
        wait_until(f"felundd to serve at {expected}", serving)
        with felund.Client(expected) as c:
            return c.get_node_info().socket_path
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_default_socket_is_where_felundd_binds_by_default(tmp_path: Path) -> None:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path / "home"),
            "XDG_CONFIG_HOME": str(tmp_path / "config")}
    (tmp_path / "run").mkdir(mode=0o700)
    cases = [
        {"XDG_RUNTIME_DIR": str(tmp_path / "run")},
        {"FELUND_STATE_DIR": str(tmp_path / "state")},
        {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_RUNTIME_DIR": ""},
        {},
    ]
    for extra in cases:
        env = {**base, **extra}
        expected = resolve_socket(None, env)
        assert expected.is_relative_to(tmp_path), extra
        assert socket_felundd_binds(env, expected) == str(expected), extra
