"""The asyncio client: the same API as :class:`felund.Client`, awaitable."""

from __future__ import annotations

import logging
import os
import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import grpc
import grpc.aio
from google.protobuf.message import Message as _Proto

from felund import api, limits
from felund._proto.felund_pb2_grpc import FelundStub
from felund._resume import Resume, retryable
from felund._socket import open_aio_channel
from felund.errors import ApiError
from felund.paths import resolve_socket

log = logging.getLogger("felund")
Req = TypeVar("Req", bound=_Proto)
Resp = TypeVar("Resp", bound=_Proto)


class AsyncClient:
    """A connection to felundd for asyncio code; create it inside a running event loop.

    ``socket`` defaults like felundctl's (``$FELUND_SOCKET``, else felundd's default
    socket; see :mod:`felund.paths`). Connecting fails at once with a
    :class:`~felund.errors.ConnectError` when felundd is not there. Requests raise
    :class:`~felund.errors.ApiError`; each has a deadline of ``timeout`` seconds.
    """

    def __init__(self, socket: str | os.PathLike[str] | None = None, *,
                 timeout: float = limits.CALL_TIMEOUT_S) -> None:
        #: The socket this client dials.
        self.socket: Path = resolve_socket(socket)
        self.timeout = timeout
        self._channel = open_aio_channel(self.socket)
        #: The generated stub, for calls this class does not wrap.
        self.stub = FelundStub(self._channel)

    async def close(self) -> None:
        """Close the connection; iterators from :meth:`events` end with an error."""
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, value: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # wait_for_ready: a request made while felundd restarts waits for it (up to the
    # timeout) instead of failing at once.
    async def _call(self, rpc: grpc.aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        try:
            return await rpc(request, timeout=self.timeout, wait_for_ready=True)
        except grpc.RpcError as e:
            raise ApiError.from_rpc(e) from None

    # Node.

    async def get_node_info(self) -> api.NodeInfo:
        """Identity, addresses, version, uptime and counts."""
        return await self._call(self.stub.GetNodeInfo, api.GetNodeInfoRequest())

    async def set_display_name(self, display_name: str) -> api.NodeInfo:
        """Rename this node (announced in every circle)."""
        return await self._call(self.stub.SetDisplayName,
                          api.SetDisplayNameRequest(display_name=display_name))

    async def set_relay(self, relay_url: str) -> api.NodeInfo:
        """Set the relay server; an empty URL turns relay sync off."""
        return await self._call(self.stub.SetRelay, api.SetRelayRequest(relay_url=relay_url))

    # Circles. A `circle` argument is a circle id, a unique prefix of one, or a name.

    async def create_circle(self, name: str = "") -> api.CreateCircleResponse:
        """A new circle with a fresh secret, and its invite code."""
        return await self._call(self.stub.CreateCircle, api.CreateCircleRequest(name=name))

    async def join_circle(self, code: str) -> api.JoinCircleResponse:
        """Join the circle of an invite code."""
        return await self._call(self.stub.JoinCircle, api.JoinCircleRequest(code=code))

    async def leave_circle(self, circle: str) -> api.LeaveCircleResponse:
        """Leave a circle and forget everything about it."""
        return await self._call(self.stub.LeaveCircle, api.LeaveCircleRequest(circle=circle))

    async def rename_circle(self, circle: str, name: str) -> api.Circle:
        """Give a circle a friendly name."""
        return await self._call(self.stub.RenameCircle, api.RenameCircleRequest(circle=circle, name=name))

    async def get_invite_code(self, circle: str) -> api.InviteCode:
        """An invite code for a circle (a secret: share it only with new members)."""
        return await self._call(self.stub.GetInviteCode, api.GetInviteCodeRequest(circle=circle))

    async def list_circles(self) -> list[api.Circle]:
        """Every circle this node is in."""
        return list((await self._call(self.stub.ListCircles, api.ListCirclesRequest())).circles)

    # Channels and members.

    async def list_channels(self, circle: str) -> list[api.Channel]:
        """The channels of a circle."""
        return list((await self._call(self.stub.ListChannels,
                               api.ListChannelsRequest(circle=circle))).channels)

    async def create_channel(self, circle: str, channel: str,
                       access_mode: api.AccessMode = api.ACCESS_MODE_PUBLIC,
                       key: str = "") -> api.Channel:
        """Create a channel (``key`` is required for ``ACCESS_MODE_KEY``)."""
        return await self._call(self.stub.CreateChannel, api.CreateChannelRequest(
            circle=circle, channel=channel, access_mode=access_mode, key=key))

    async def join_channel(self, circle: str, channel: str, key: str = "") -> api.JoinChannelResponse:
        """Join a channel; an invite-only one records a request instead."""
        return await self._call(self.stub.JoinChannel,
                          api.JoinChannelRequest(circle=circle, channel=channel, key=key))

    async def leave_channel(self, circle: str, channel: str) -> api.Channel:
        """Leave a channel."""
        return await self._call(self.stub.LeaveChannel,
                          api.LeaveChannelRequest(circle=circle, channel=channel))

    async def approve_channel_request(self, circle: str, channel: str, node_id: str) -> api.Channel:
        """Let a node that asked into an invite-only channel in."""
        return await self._call(self.stub.ApproveChannelRequest, api.ApproveChannelRequestRequest(
            circle=circle, channel=channel, node_id=node_id))

    async def list_members(self, circle: str, channel: str = "") -> list[api.Member]:
        """Members of a circle, or of one of its channels."""
        return list((await self._call(self.stub.ListMembers,
                               api.ListMembersRequest(circle=circle, channel=channel))).members)

    async def list_peers(self, circle: str = "") -> list[api.Peer]:
        """Known peers of one circle, or of all."""
        return list((await self._call(self.stub.ListPeers, api.ListPeersRequest(circle=circle))).peers)

    # Messages.

    async def send_message(self, circle: str, text: str, channel: str = "") -> api.Message:
        """Send ``text`` (at most 4,096 UTF-8 bytes); returns once it is on disk.
        An empty ``channel`` is ``general``."""
        return await self._call(self.stub.SendMessage,
                          api.SendMessageRequest(circle=circle, channel=channel, text=text))

    async def reply(self, to: api.Message, text: str) -> api.Message:
        """Send ``text`` to the circle and channel that ``to`` was written in."""
        return await self.send_message(to.circle_id, text, channel=to.channel_id)

    async def list_messages(self, circle: str, channel: str = "", limit: int = 0,
                      before: str = "", after: str = "",
                      from_start: bool = False) -> api.ListMessagesResponse:
        """A page of ``limit`` messages (0: 50, at most 1000), oldest first.

        By default the newest; pass a response's ``next_before`` as ``before`` for the
        page before it. To read forwards, set ``from_start`` for the first page and
        pass each response's ``next_after`` as ``after`` (see :meth:`iter_messages`)."""
        return await self._call(self.stub.ListMessages, api.ListMessagesRequest(
            circle=circle, channel=channel, limit=limit, before=before, after=after,
            from_start=from_start))

    async def iter_messages(self, circle: str, channel: str = "") -> AsyncIterator[api.Message]:
        """Every message of a channel, oldest first, read a page at a time (what
        ``felundctl inbox --all`` exports)."""
        after = ""
        while True:
            page = await self.list_messages(circle, channel, limit=limits.LIST_MESSAGES_MAX_PAGE,
                                      after=after, from_start=True)
            for m in page.messages:
                yield m
            if not page.next_after:
                return
            after = page.next_after

    async def search_messages(self, query: str, circle: str = "", channel: str = "",
                        limit: int = 0) -> list[api.Message]:
        """Messages containing every word of ``query``, newest first."""
        return list((await self._call(self.stub.SearchMessages, api.SearchMessagesRequest(
            query=query, circle=circle, channel=channel, limit=limit))).messages)

    async def import_state(self, state_json: bytes) -> api.ImportStateResponse:
        """Import a reference node's ``state.json``."""
        return await self._call(self.stub.ImportState, api.ImportStateRequest(state_json=state_json))

    # Events.

    async def events(self, circle: str = "", *, resume: bool = True) -> AsyncIterator[api.Event]:
        """Live events of one circle (or of every circle), for as long as you iterate.

        With ``resume`` (the default), when felundd stops or restarts the iterator
        waits for it, subscribes again and first delivers the messages stored in
        between (from where it stopped: see :mod:`felund._resume`); each message is
        delivered once. Without it, the iterator ends when felundd stops. A refusal
        (e.g. an unknown circle) raises :class:`~felund.errors.ApiError`.
        """
        state = Resume()
        while True:
            try:
                if state.after_seq is None:
                    state.after_seq = (await self.get_node_info()).last_seq
            except ApiError as e:
                if not resume or not retryable(e.code):
                    raise
                log.info("felundd is away (%s); waiting for it", e)
                await asyncio.sleep(state.broke())
                continue
            call = self.stub.Subscribe(api.SubscribeRequest(circle=circle, after_seq=state.after_seq))
            try:
                await call.initial_metadata()  # felundd has registered the subscription
                state.subscribed()
                async for event in call:
                    state.delivered(event)
                    yield event
                log.info("felundd ended the event stream (it is stopping)")
            except grpc.RpcError as e:
                error = ApiError.from_rpc(e)
                if not resume or not retryable(error.code):
                    raise error from None
                log.info("event stream lost (%s); resubscribing", error)
            finally:
                call.cancel()
            if not resume:
                return
            await asyncio.sleep(state.broke())

