"""Opening a gRPC channel to felundd's Unix socket, sync or asyncio."""

from __future__ import annotations

import errno
import os
import socket
import stat
from pathlib import Path

import grpc
import grpc.aio

from felund import limits
from felund.errors import ConnectFailed, NotASocket, NotRunning, PermissionDenied

#: grpcio would send the socket path as the HTTP/2 `:authority`, which felundd (like
#: any HTTP/2 server) resets as a malformed host name; felundctl sends "localhost".
#: The reconnect backoff is capped so a channel finds a restarted felundd quickly
#: (grpcio's default cap is two minutes).
CHANNEL_OPTIONS = [
    ("grpc.default_authority", "localhost"),
    ("grpc.initial_reconnect_backoff_ms", int(limits.RECONNECT_INITIAL_S * 1000)),
    ("grpc.min_reconnect_backoff_ms", int(limits.RECONNECT_INITIAL_S * 1000)),
    ("grpc.max_reconnect_backoff_ms", int(limits.RECONNECT_MAX_S * 1000)),
]


def probe(path: Path) -> None:
    """Raise the ConnectError a person can act on unless something listens at ``path``.

    grpcio connects lazily and reports every failure as UNAVAILABLE, so the socket is
    tried directly first to tell "not running" from "permission denied" and the rest.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise NotRunning(path) from None
    except PermissionError:
        raise PermissionDenied(path) from None
    except OSError as e:
        raise ConnectFailed(path, e.strerror or str(e)) from None
    if not stat.S_ISSOCK(mode):
        raise NotASocket(path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(limits.CONNECT_TIMEOUT_S)
        try:
            s.connect(os.fspath(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise NotRunning(path) from None
        except PermissionError:
            raise PermissionDenied(path) from None
        except OSError as e:
            why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e))
            if e.errno == errno.ENAMETOOLONG:
                why = "the path is too long for a Unix socket"
            raise ConnectFailed(path, why) from None


def target(path: Path) -> str:
    """The gRPC target naming the socket at ``path``."""
    return "unix://" + os.path.abspath(path)


def open_channel(path: Path) -> grpc.Channel:
    """A blocking channel to felundd at ``path`` (after :func:`probe`)."""
    probe(path)
    return grpc.insecure_channel(target(path), options=CHANNEL_OPTIONS)


def open_aio_channel(path: Path) -> grpc.aio.Channel:
    """An asyncio channel to felundd at ``path`` (after :func:`probe`)."""
    probe(path)
    return grpc.aio.insecure_channel(target(path), options=CHANNEL_OPTIONS)
