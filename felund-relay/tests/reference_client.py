"""Drives felund-relay with the reference Python relay client (felundchat.rendezvous_client).

Usage: python reference_client.py basic BASE_URL
       python reference_client.py backlog COUNT BASE_URL [BASE_URL...]
Needs FELUND_REFERENCE_DIR (the reference checkout; its chat/ holds felundchat).
Prints one JSON object with what the reference client saw; the Rust test asserts on it.
"""

import json
import os
import secrets
import sys
import urllib.error

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ["FELUND_REFERENCE_DIR"], "chat"))

from felundchat import rendezvous_client as rc  # noqa: E402
from felundchat.crypto import make_message_mac, sha256_hex  # noqa: E402
from felundchat.models import ChatMessage, Circle, State  # noqa: E402


def make_node(circle_id: str, secret_hex: str, port: int) -> State:
    state = State.default("127.0.0.1", port)
    state.circles[circle_id] = Circle(circle_id=circle_id, secret_hex=secret_hex)
    state.circle_members[circle_id] = {state.node.node_id}
    return state


def add_message(state: State, circle_id: str, secret_hex: str, i: int) -> None:
    node_id = state.node.node_id
    created_ts = 1_700_000_000 + i
    msg_id = sha256_hex(f"{node_id}|{created_ts}|{secrets.token_hex(8)}".encode())[:32]
    msg = ChatMessage(
        msg_id=msg_id,
        circle_id=circle_id,
        author_node_id=node_id,
        created_ts=created_ts,
        text=f"hello {i} \u00e9\U0001f389",
        display_name="ref-alice",
    )
    msg.mac = make_message_mac(secret_hex, msg)
    state.messages[msg_id] = msg


def http_error(fn):
    try:
        fn()
    except urllib.error.HTTPError as err:
        return {"status": err.code, "body": json.loads(err.read().decode("utf-8"))}
    return None


def run(base: str) -> dict:
    secret_hex = secrets.token_hex(32)
    circle_id = sha256_hex(bytes.fromhex(secret_hex))[:24]
    alice = make_node(circle_id, secret_hex, 9101)
    bob = make_node(circle_id, secret_hex, 9102)
    out = {
        "circle_hint": rc.circle_hint(circle_id),
        "alice": alice.node.node_id,
        "bob": bob.node.node_id,
    }

    # Presence: both register (signed, with signing_key), each sees the other.
    rc.register_presence(base, alice, circle_id)
    rc.register_presence(base, bob, circle_id)
    out["alice_sees"] = rc.lookup_peer_addrs(base, alice, circle_id)
    out["bob_sees"] = rc.lookup_peer_addrs(base, bob, circle_id)

    # Messages: 120 local messages; the reference pushes its 100 newest in batches of 50.
    for i in range(120):
        add_message(alice, circle_id, secret_hex, i)
    out["pushed"] = rc.push_messages_to_relay(base, alice, circle_id)
    out["pushed_again"] = rc.push_messages_to_relay(base, alice, circle_id)

    raw, server_time = rc.pull_messages_from_relay(base, bob, circle_id, since=0)
    out["pulled"] = len(raw)
    out["pulled_keys"] = sorted(raw[0].keys()) if raw else []
    out["server_time"] = server_time
    out["merged"] = rc.merge_relay_messages(bob, circle_id, raw)
    out["bob_texts"] = sorted(m.text for m in bob.messages.values())
    raw_again, _ = rc.pull_messages_from_relay(base, bob, circle_id, since=server_time)
    out["pulled_after_cursor"] = len(raw_again)

    # A node that never registered is refused (signed, unknown key).
    stranger = make_node(circle_id, secret_hex, 9103)
    out["stranger_pull"] = http_error(
        lambda: rc.pull_messages_from_relay(base, stranger, circle_id, since=0)
    )

    # Unregister: Bob no longer sees Alice.
    rc.unregister_presence(base, alice, circle_id)
    out["bob_sees_after_unregister"] = rc.lookup_peer_addrs(base, bob, circle_id)
    return out


def backlog(count: int, bases: list) -> dict:
    """Alice pushes `count` messages the reference way (its 100 newest per round), through the
    instances in turn; then Bob pulls them the way the reference TUI does: since its in-memory
    cursor, limit 200, next cursor = server_time when it is larger. Bob pulls until a pull
    brings nothing, as its next rounds would."""
    secret_hex = secrets.token_hex(32)
    circle_id = sha256_hex(bytes.fromhex(secret_hex))[:24]
    alice = make_node(circle_id, secret_hex, 9101)
    bob = make_node(circle_id, secret_hex, 9102)
    rc.register_presence(bases[0], alice, circle_id)
    rc.register_presence(bases[0], bob, circle_id)
    pushed = 0
    for round_ in range(count // 100):
        for i in range(100):
            add_message(alice, circle_id, secret_hex, round_ * 100 + i)
        pushed += rc.push_messages_to_relay(bases[round_ % len(bases)], alice, circle_id)

    since, pulls, received = 0, 0, []
    while pulls <= count:
        raw, server_time = rc.pull_messages_from_relay(
            bases[pulls % len(bases)], bob, circle_id, since
        )
        pulls += 1
        received.extend(str(m.get("msg_id", "")) for m in raw)
        rc.merge_relay_messages(bob, circle_id, raw)
        if server_time > since:
            since = server_time
        if not raw:
            break
    return {
        "circle_hint": rc.circle_hint(circle_id),
        "pushed": pushed,
        "pulls": pulls,
        "received": len(received),
        "distinct": len(set(received)),
        "merged": len(bob.messages),
        "all_of_alices": set(received) == set(alice.messages),
    }


if __name__ == "__main__":
    if sys.argv[1] == "basic":
        print(json.dumps(run(sys.argv[2].rstrip("/"))))
    elif sys.argv[1] == "backlog":
        print(json.dumps(backlog(int(sys.argv[2]), [b.rstrip("/") for b in sys.argv[3:]])))
    else:
        sys.exit(f"unknown mode {sys.argv[1]!r}")
