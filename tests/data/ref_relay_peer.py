"""A reference Python node speaking to a relay through the reference's own relay
client (felundchat.rendezvous_client), for the mixed-circle test.

usage: python ref_relay_peer.py BASE_URL SECRET_HEX TEXT
Registers in the circle, pushes one message with TEXT, pulls everything, and prints
one JSON object: {"node_id", "pushed", "texts": [decrypted texts seen]}.
Needs FELUND_REFERENCE_DIR (the reference checkout).
"""

import json
import os
import secrets
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ["FELUND_REFERENCE_DIR"], "chat"))

from felundchat import rendezvous_client as rc  # noqa: E402
from felundchat.crypto import make_message_mac, sha256_hex  # noqa: E402
from felundchat.models import ChatMessage, Circle, State  # noqa: E402


def main() -> None:
    base, secret_hex, text = sys.argv[1], sys.argv[2], sys.argv[3]
    circle_id = sha256_hex(bytes.fromhex(secret_hex))[:24]
    state = State.default("127.0.0.1", 1)
    state.node.display_name = "ref-python"
    state.circles[circle_id] = Circle(circle_id=circle_id, secret_hex=secret_hex)
    state.circle_members[circle_id] = {state.node.node_id}
    node_id = state.node.node_id
    created_ts = 1_800_000_000
    msg_id = sha256_hex(f"{node_id}|{created_ts}|{secrets.token_hex(8)}".encode())[:32]
    msg = ChatMessage(
        msg_id=msg_id,
        circle_id=circle_id,
        author_node_id=node_id,
        created_ts=created_ts,
        text=text,
        display_name="ref-python",
    )
    msg.mac = make_message_mac(secret_hex, msg)
    state.messages[msg_id] = msg
    rc.register_presence(base, state, circle_id)
    pushed = rc.push_messages_to_relay(base, state, circle_id)
    raw, _ = rc.pull_messages_from_relay(base, state, circle_id, since=0)
    rc.merge_relay_messages(state, circle_id, raw)
    texts = sorted(m.text for m in state.messages.values() if m.circle_id == circle_id)
    print(json.dumps({"node_id": node_id, "pushed": pushed, "texts": texts}))


if __name__ == "__main__":
    main()
