"""Every RPC through the blocking and the asyncio client, against a real felundd."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import grpc
import pytest
from conftest import Felundd

import felund
from felund import api


def test_missing_socket_is_not_running_with_felundctls_words(tmp_path: Path) -> None:
    path = tmp_path / "felundd.sock"
    with pytest.raises(felund.NotRunning) as e:
        felund.Client(path)
    assert str(e.value) == (f"felundd is not running at {path}; start it with `felundd` "
                            "(or `systemctl --user start felundd`)")
    assert e.value.path == path


def test_stale_socket_and_plain_file_are_told_apart(tmp_path: Path) -> None:
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(stale))  # bound, never listening, then closed: a stale socket
    with pytest.raises(felund.NotRunning):
        felund.Client(stale)
    plain = tmp_path / "plain"
    plain.write_text("not a socket")
    with pytest.raises(felund.NotASocket, match="is not a socket"):
        felund.Client(plain)


def test_socket_from_the_environment(node: Felundd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FELUND_SOCKET", str(node.socket))
    with felund.Client() as client:
        assert client.socket == node.socket
        assert client.get_node_info().display_name == "alice"


def test_every_rpc_of_the_blocking_client(node: Felundd) -> None:
    with node.client() as c:
        assert c.set_display_name("alice2").display_name == "alice2"
        assert c.set_relay("").relay_url == ""
        created = c.create_circle("friends")
        cid = created.circle.circle_id
        assert created.invite_code.startswith("felund")
        assert c.join_circle(created.invite_code).newly_joined is False
        assert c.rename_circle(cid, "pals").name == "pals"
        assert c.get_invite_code("pals").circle_id == cid
        assert [x.circle_id for x in c.list_circles()] == [cid]

        key = c.create_channel(cid, "vault", api.ACCESS_MODE_KEY, key="s3cret")
        assert key.access_mode == api.ACCESS_MODE_KEY
        invite = c.create_channel(cid, "club", api.ACCESS_MODE_INVITE)
        assert invite.joined
        assert not c.leave_channel(cid, "vault").joined
        assert c.join_channel(cid, "vault", key="s3cret").channel.joined
        assert {ch.channel_id for ch in c.list_channels(cid)} >= {"general", "vault", "club"}
        with pytest.raises(felund.ApiError):
            c.approve_channel_request(cid, "club", "0" * 24)  # nobody asked
        assert [m.display_name for m in c.list_members(cid)] == ["alice2"]
        assert c.list_peers(cid) == []

        first = c.send_message(cid, "hello world")
        assert first.channel_id == "general" and first.own
        second = c.reply(first, "a reply")
        page = c.list_messages(cid, limit=1)
        assert [m.msg_id for m in page.messages] == [second.msg_id]
        older = c.list_messages(cid, before=page.next_before)
        assert [m.text for m in older.messages] == ["hello world"]
        assert [m.text for m in c.iter_messages(cid)] == ["hello world", "a reply"]
        assert [m.msg_id for m in c.search_messages("hello")] == [first.msg_id]
        with pytest.raises(felund.ApiError) as e:
            c.import_state(b"not json")
        assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert c.leave_circle(cid).circle_id == cid
        assert c.list_circles() == []


def test_refusals_carry_their_status_and_the_client_keeps_working(node: Felundd) -> None:
    with node.client() as c:
        with pytest.raises(felund.ApiError) as e:
            c.send_message("nope", "hi")
        assert e.value.code == grpc.StatusCode.NOT_FOUND
        assert "no circle matches 'nope'" in str(e.value)
        c.create_circle("friends")
        # Hostile size: one byte over felundd's limit is refused, not stored.
        with pytest.raises(felund.ApiError) as e:
            c.send_message("friends", "x" * (felund.limits.MAX_TEXT_BYTES + 1))
        assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert c.send_message("friends", "x" * felund.limits.MAX_TEXT_BYTES).text
        assert len(c.list_messages("friends").messages) == 1


def test_the_asyncio_client_makes_the_same_calls(node: Felundd) -> None:
    async def scenario() -> list[str]:
        async with felund.AsyncClient(node.socket) as c:
            assert (await c.get_node_info()).display_name == "alice"
            created = await c.create_circle("friends")
            sent = await c.send_message("friends", "hi from asyncio")
            await c.reply(sent, "and back")
            assert [x.name for x in await c.list_circles()] == ["friends"]
            assert len(await c.list_members("friends")) == 1
            with pytest.raises(felund.ApiError) as e:
                await c.list_channels("nope")
            assert e.value.code == grpc.StatusCode.NOT_FOUND
            assert (await c.get_invite_code("friends")).circle_id == created.circle.circle_id
            page = await c.list_messages("friends")
            assert [m.text async for m in c.iter_messages("friends")] == \
                [m.text for m in page.messages]
            return [m.text for m in page.messages]

    assert asyncio.run(scenario()) == ["hi from asyncio", "and back"]
