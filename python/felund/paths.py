"""Where felundd's socket is, by the same rule as felundctl (felund-client's ``paths``).

| what | 1st | 2nd | 3rd |
| --- | --- | --- | --- |
| socket | explicit (``socket=``) | ``$FELUND_SOCKET`` | the default socket |
| default socket | ``$XDG_RUNTIME_DIR/felund/felundd.sock`` | ``<state dir>/felundd.sock`` | |
| state directory | ``$FELUND_STATE_DIR`` | ``<data dir>/felund`` | ``./.felund`` |

Environment variables that are set but empty count as unset. The data directory is
``$XDG_DATA_HOME`` (when absolute) or ``~/.local/share`` on Linux, and
``~/Library/Application Support`` on macOS; the runtime directory is
``$XDG_RUNTIME_DIR`` when absolute, on Linux only.
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Mapping
from pathlib import Path

SOCKET_ENV = "FELUND_SOCKET"
STATE_DIR_ENV = "FELUND_STATE_DIR"
SOCKET_FILE_NAME = "felundd.sock"
_APP_DIR = "felund"

Env = Mapping[str, str]


def _non_empty(env: Env, name: str) -> str | None:
    value = env.get(name)
    return value if value else None


def _absolute(env: Env, name: str) -> Path | None:
    value = _non_empty(env, name)
    return Path(value) if value and os.path.isabs(value) else None


def _home(env: Env) -> Path | None:
    home = _non_empty(env, "HOME")
    if home:
        return Path(home)
    try:
        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        return None


def _data_dir(env: Env, platform: str) -> Path | None:
    home = _home(env)
    if platform == "darwin":
        return home / "Library" / "Application Support" if home else None
    return _absolute(env, "XDG_DATA_HOME") or (home / ".local" / "share" if home else None)


def _runtime_dir(env: Env, platform: str) -> Path | None:
    return _absolute(env, "XDG_RUNTIME_DIR") if platform.startswith("linux") else None


def default_state_dir(env: Env | None = None, platform: str = sys.platform) -> Path:
    """felundd's default state directory."""
    env = os.environ if env is None else env
    explicit = _non_empty(env, STATE_DIR_ENV)
    if explicit:
        return Path(explicit)
    data = _data_dir(env, platform)
    return data / _APP_DIR if data else Path(".felund")


def default_socket(env: Env | None = None, platform: str = sys.platform) -> Path:
    """felundd's default socket when neither ``--socket`` nor ``$FELUND_SOCKET`` is given."""
    env = os.environ if env is None else env
    run = _runtime_dir(env, platform)
    if run:
        return run / _APP_DIR / SOCKET_FILE_NAME
    return default_state_dir(env, platform) / SOCKET_FILE_NAME


def resolve_socket(
    explicit: str | os.PathLike[str] | None = None,
    env: Env | None = None,
    platform: str = sys.platform,
) -> Path:
    """The socket to dial: ``explicit`` if given, else ``$FELUND_SOCKET``, else the default."""
    env = os.environ if env is None else env
    if explicit is not None and os.fspath(explicit):
        return Path(explicit)
    from_env = _non_empty(env, SOCKET_ENV)
    if from_env:
        return Path(from_env)
    return default_socket(env, platform)
