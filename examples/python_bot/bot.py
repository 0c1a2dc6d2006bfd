#!/usr/bin/env python3
"""A felund echo bot in Python, talking gRPC to felundd over its Unix socket.

    python bot.py [--socket PATH] [--proto PATH] [--once] CIRCLE

Answers, in the channel they were written in:

    !echo TEXT   ->  TEXT
    !ping        ->  pong
    !help        ->  the list of commands

It skips messages whose ``own`` flag is set (its own replies, and anything else
written on the same node), so it talks to the other members of the circle.

The Python stubs are generated at start from ``proto/felund.proto`` with
grpcio-tools into a temporary directory, so no generated code is kept anywhere.
Needs ``pip install grpcio grpcio-tools``. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from pathlib import Path

import grpc
from grpc_tools import protoc

HELP = "commands: !echo TEXT (repeat TEXT), !ping (answer pong), !help (this list)"
DEFAULT_PROTO = Path(__file__).resolve().parent.parent.parent / "proto" / "felund.proto"


def reply_to(text: str) -> str | None:
    """The reply to a chat message's text, or None when it is not a command."""
    text = text.strip()
    if text.startswith("!echo "):
        rest = text[len("!echo "):].strip()
        return rest or None
    if text == "!ping":
        return "pong"
    if text == "!help":
        return HELP
    return None


def default_socket() -> str:
    """The socket felundctl would dial: $FELUND_SOCKET, else the daemon's default."""
    if os.environ.get("FELUND_SOCKET"):
        return os.environ["FELUND_SOCKET"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "felund", "felundd.sock")
    state = os.environ.get("FELUND_STATE_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "felund"
    )
    return os.path.join(state, "felundd.sock")


def load_stubs(proto: Path, out_dir: str):
    """Generate felund_pb2 / felund_pb2_grpc from `proto` into `out_dir`; import them."""
    if not proto.is_file():
        sys.exit(f"python_bot: {proto} not found; pass --proto PATH to felund.proto")
    rc = protoc.main([
        "grpc_tools.protoc",
        f"-I{proto.parent}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        proto.name,
    ])
    if rc != 0:
        sys.exit(f"python_bot: grpc_tools.protoc failed on {proto} (exit {rc})")
    sys.path.insert(0, out_dir)
    stem = proto.stem
    return importlib.import_module(f"{stem}_pb2"), importlib.import_module(f"{stem}_pb2_grpc")


def connect(socket_path: str):
    """A channel to felundd's socket.

    grpcio would send the socket path as the HTTP/2 :authority, which felundd (like any
    h2 server) refuses as a malformed host name; "localhost" is what felundctl sends.
    """
    target = "unix://" + os.path.abspath(socket_path)
    return grpc.insecure_channel(target, options=[("grpc.default_authority", "localhost")])


def run(args: argparse.Namespace, pb, pb_grpc) -> int:
    """Answer commands until the stream ends (or after the first answer with --once)."""
    with connect(args.socket) as channel:
        stub = pb_grpc.FelundStub(channel)
        events = stub.Subscribe(pb.SubscribeRequest(circle=args.circle))
        # Blocks until felundd has accepted the subscription (or refused it).
        events.initial_metadata()
        if events.done() and events.code() != grpc.StatusCode.OK:
            print(f"python_bot: {events.code().name}: {events.details()}", file=sys.stderr)
            return 1
        print(f"python_bot: listening to circle {args.circle}", flush=True)
        for ev in events:
            kind = ev.WhichOneof("kind")
            if kind == "lagged":
                print(f"python_bot: fell behind, {ev.lagged.missed} events missed",
                      file=sys.stderr, flush=True)
                continue
            if kind != "message" or ev.message.own:
                continue
            msg = ev.message
            reply = reply_to(msg.text)
            if reply is None:
                continue
            request = pb.SendMessageRequest(circle=msg.circle_id, channel=msg.channel_id,
                                            text=reply)
            try:
                sent = stub.SendMessage(request, timeout=30)
            except grpc.RpcError as e:
                print(f"python_bot: could not answer {msg.msg_id}: {e.details()}",
                      file=sys.stderr, flush=True)
                continue
            print(f"python_bot: answered {msg.msg_id} with {sent.msg_id}", flush=True)
            if args.once:
                events.cancel()
                return 0
    print("python_bot: felundd ended the event stream", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description="felund echo bot (gRPC over the Unix socket)")
    parser.add_argument("circle", nargs="?", default=os.environ.get("FELUND_BOT_CIRCLE"),
                        help="circle id, unique prefix or name (default: $FELUND_BOT_CIRCLE)")
    parser.add_argument("--socket", default=default_socket(),
                        help="felundd's socket (default: $FELUND_SOCKET or the daemon's default)")
    parser.add_argument("--proto", type=Path, default=DEFAULT_PROTO,
                        help=f"felund.proto to generate stubs from (default: {DEFAULT_PROTO})")
    parser.add_argument("--once", action="store_true",
                        help="exit 0 after answering one command (for tests)")
    args = parser.parse_args()
    if not args.circle:
        parser.error("which circle? pass CIRCLE or set FELUND_BOT_CIRCLE")
    if not os.path.exists(args.socket):
        print(f"python_bot: felundd is not running at {args.socket}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="felund-stubs-") as gen:
        pb, pb_grpc = load_stubs(args.proto, gen)
        try:
            return run(args, pb, pb_grpc)
        except grpc.RpcError as e:
            print(f"python_bot: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
