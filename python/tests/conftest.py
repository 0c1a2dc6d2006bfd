"""Real felundd processes for the package's tests.

The binaries come from ``$FELUND_BIN_DIR``, else the repository's ``target/debug``
(``cargo build -p felundd``). Each daemon has its own temp dir, socket and free
loopback port; every wait has a generous deadline and polls a condition.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import felund

#: Generous deadline for anything a test waits for (a loaded 2-core machine).
DEADLINE_S = 60.0
REPO = Path(__file__).resolve().parent.parent.parent


def bin_path(name: str) -> Path:
    """A workspace binary; fails the test with the fix when it is not built."""
    path = Path(os.environ.get("FELUND_BIN_DIR") or REPO / "target" / "debug") / name
    if not path.exists():
        pytest.fail(f"{path} not found: build it (`cargo build -p felundd`) or set FELUND_BIN_DIR")
    return path


def wait_until(what: str, cond: Callable[[], object]) -> None:
    """Poll ``cond`` until it is true; fail naming ``what`` after DEADLINE_S."""
    start, pause = time.monotonic(), 0.005
    while time.monotonic() - start < DEADLINE_S:
        if cond():
            return
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    pytest.fail(f"timed out after {DEADLINE_S:.0f}s waiting for {what}")


def free_port() -> int:
    """A free TCP port on 127.0.0.1, chosen by the OS."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Felundd:
    """One felundd in its own directory; ``start``, ``stop``, ``kill``, ``restart``."""

    def __init__(self, root: Path, name: str) -> None:
        self.root, self.name = root, name
        root.mkdir(parents=True, exist_ok=True)
        self.socket = root / "run" / "felundd.sock"
        self.log = root / "felundd.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Felundd:
        env = dict(os.environ, XDG_CONFIG_HOME=str(self.root / "config"), RUST_LOG="info")
        env.pop("FELUND_SOCKET", None)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [bin_path("felundd"), "--state-dir", self.root / "state", "--socket", self.socket,
                 "--bind", "127.0.0.1", "--port", str(self.port), "--name", self.name,
                 "--sync-interval", "1"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env)
        wait_until(f"{self.name} to serve", self._serving)
        return self

    def _serving(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"felundd exited ({self.proc.returncode}):\n{self.log.read_text()}")
        try:
            with felund.Client(self.socket) as c:
                c.get_node_info()
            return True
        except felund.FelundError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        self.proc.wait(timeout=DEADLINE_S)
        self.proc = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    def client(self) -> felund.Client:
        return felund.Client(self.socket)


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Callable[[str], Felundd]]:
    """A factory of started daemons, all killed at the end of the test."""
    started: list[Felundd] = []

    def start(name: str) -> Felundd:
        d = Felundd(tmp_path / name, name).start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop(signal.SIGKILL)


@pytest.fixture
def node(daemons: Callable[[str], Felundd]) -> Felundd:
    """One running felundd."""
    return daemons("alice")


def joined_pair(daemons: Callable[[str], Felundd]) -> tuple[Felundd, Felundd, str]:
    """Two daemons in one circle ("bots", created on the first): (bot node, human, id)."""
    bot_node, human = daemons("botnode"), daemons("human")
    with bot_node.client() as a, human.client() as b:
        created = a.create_circle("bots")
        b.join_circle(created.invite_code)
        circle = created.circle.circle_id
        wait_until("the human node to know the circle",
                   lambda: any(c.circle_id == circle for c in b.list_circles()))
    return bot_node, human, circle
