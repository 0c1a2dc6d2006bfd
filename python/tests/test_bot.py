"""The bot helper: command parsing and dispatch (pure), and a bot against two real
daemons that survives hostile input from a member."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Felundd, joined_pair, wait_until

from felund import Bot, api


def message(text: str, own: bool = False) -> api.Message:
    return api.Message(msg_id="m1", circle_id="c", channel_id="general", text=text, own=own)


@pytest.fixture
def bot() -> Bot:
    bot = Bot(circle="c")

    @bot.command("echo", help="repeat TEXT")
    def echo(msg: api.Message, args: str) -> str:
        return args

    @bot.command("boom")
    def boom(msg: api.Message, args: str) -> str:
        raise RuntimeError("a buggy handler")

    return bot


def test_commands_are_answered_with_their_arguments(bot: Bot) -> None:
    assert bot.answer(message("!echo  hi there ")) == "hi there"
    assert bot.answer(message("!echo\nhi")) == "hi"
    assert bot.answer(message("!help")) == "commands: !echo (repeat TEXT), !boom, !help (this list)"


def test_chat_own_messages_and_unknown_commands_get_no_answer(bot: Bot) -> None:
    for text in ["hello", "! echo hi", "!", "!nope", "!echo", "echo !echo"]:
        assert bot.answer(message(text)) is None, text
    assert bot.answer(message("!echo hi", own=True)) is None


def test_a_raising_handler_is_logged_and_the_next_command_answered(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    assert bot.answer(message("!boom")) is None
    assert "the 'boom' handler failed" in caplog.text
    assert bot.answer(message("!echo still here")) == "still here"


def test_command_names_are_one_word() -> None:
    with pytest.raises(ValueError):
        Bot().command("two words")


HOSTILE_BOT = textwrap.dedent("""
    from felund import Bot
    bot = Bot()

    @bot.command("echo")
    def echo(msg, args):
        return args

    @bot.command("boom")
    def boom(msg, args):
        raise RuntimeError("a buggy handler")

    @bot.command("big")
    def big(msg, args):
        return "x" * 5000  # over felundd's limit: refused, logged

    bot.run()
""")


@pytest.fixture
def bot_process(tmp_path: Path) -> Iterator[Callable[[Felundd, str], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(node: Felundd, circle: str) -> subprocess.Popen[bytes]:
        env = dict(os.environ, FELUND_SOCKET=str(node.socket), FELUND_BOT_CIRCLE=circle)
        log = open(tmp_path / "bot.log", "wb")
        proc = subprocess.Popen([sys.executable, "-c", HOSTILE_BOT], env=env,
                                stdout=log, stderr=log)
        procs.append(proc)
        return proc

    yield spawn
    for p in procs:
        p.kill()
        p.wait()


def test_a_bot_survives_a_member_crashing_a_handler_and_asking_for_too_much(
        daemons: Callable[[str], Felundd],
        bot_process: Callable[[Felundd, str], subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    bot_node, human, circle = joined_pair(daemons)
    proc = bot_process(bot_node, circle)
    with bot_node.client() as b:
        wait_until("the bot to subscribe", lambda: b.get_node_info().subscriber_count >= 1)
    with human.client() as h:
        for attack in ["!boom", "!big"]:
            h.send_message(circle, attack)
        h.send_message(circle, "!echo still answering")

        def answered() -> bool:
            assert proc.poll() is None, (tmp_path / "bot.log").read_text()
            texts = [m.text for m in h.list_messages(circle).messages if not m.own]
            return "still answering" in texts
        wait_until("the bot's answer after the attacks", answered)
        texts = [m.text for m in h.list_messages(circle).messages]
    assert texts == ["!boom", "!big", "!echo still answering", "still answering"]
    log = (tmp_path / "bot.log").read_text()
    assert "the 'boom' handler failed" in log
    assert "could not answer" in log and "limit is 4096" in log
