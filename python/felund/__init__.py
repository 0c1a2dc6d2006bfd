"""Python client and bot helper for felundd, the felund chat daemon.

- :class:`Client` (blocking) and :class:`AsyncClient` (asyncio): every RPC of the
  ``felund.v1`` API over felundd's Unix socket, found like felundctl finds it, and
  :meth:`Client.events`, live events that resume after a daemon restart;
- :class:`Bot`: commands in, replies out, in a dozen lines;
- :mod:`felund.api`: the request, response and event types;
- :mod:`felund.errors`: what goes wrong, in words for people.
"""

from felund import api
from felund.aio import AsyncClient
from felund.bot import Bot
from felund.client import Client
from felund.errors import (
    ApiError,
    ConnectError,
    ConnectFailed,
    FelundError,
    NotASocket,
    NotRunning,
    PermissionDenied,
)
from felund.paths import resolve_socket

__all__ = [
    "ApiError",
    "AsyncClient",
    "Bot",
    "Client",
    "ConnectError",
    "ConnectFailed",
    "FelundError",
    "NotASocket",
    "NotRunning",
    "PermissionDenied",
    "api",
    "resolve_socket",
]
