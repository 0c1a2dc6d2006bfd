"""Errors the client raises, each with a message written for a person.

Connecting: :class:`NotRunning`, :class:`PermissionDenied`, :class:`NotASocket` and
:class:`ConnectFailed` (their texts match felundctl's). Requests: :class:`ApiError`,
which carries the gRPC status code (e.g. ``NOT_FOUND`` for an unknown circle).
"""

from __future__ import annotations

from pathlib import Path

import grpc
import grpc.aio


class FelundError(Exception):
    """Base class of every error this package raises."""


class ConnectError(FelundError):
    """felundd could not be reached at :attr:`path`."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        #: The socket path that was dialed.
        self.path = path


class NotRunning(ConnectError):
    """Nothing listens at the socket: the file is missing, or a stale socket refuses."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, f"felundd is not running at {path}; start it with `felundd` "
                               "(or `systemctl --user start felundd`)")


class PermissionDenied(ConnectError):
    """The socket, or a directory on the way to it, is not accessible to this user."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, f"permission denied connecting to felundd at {path}; "
                               "run this as the user that runs felundd")


class NotASocket(ConnectError):
    """Something other than a socket is at the path."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, f"{path} is not a socket, so felundd cannot be listening there; "
                               "check the socket path / FELUND_SOCKET")


class ConnectFailed(ConnectError):
    """Any other failure to connect (timeout, path too long, ...)."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(path, f"cannot connect to felundd at {path}: {why}")


class ApiError(FelundError):
    """felundd refused or failed a request."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details or code.name)
        #: The gRPC status, e.g. ``grpc.StatusCode.NOT_FOUND``.
        self.code = code
        #: felundd's explanation, written for people.
        self.details = details

    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> ApiError:
        """The ApiError for a failed gRPC call."""
        if isinstance(error, (grpc.Call, grpc.aio.AioRpcError)):
            return cls(error.code(), error.details() or "")
        return cls(grpc.StatusCode.UNKNOWN, str(error))
