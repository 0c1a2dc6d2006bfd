"""A small bot helper: commands in, replies out, in the channel they came from.

::

    from felund import Bot

    bot = Bot()

    @bot.command("echo", help="repeat TEXT")
    def echo(msg, args):
        return args

    bot.run()

A command is a message starting with the prefix (``!``) and a name: ``!echo hi`` calls
the ``echo`` handler with the message and ``"hi"``. What the handler returns is sent
to the same circle and channel; ``None`` or ``""`` sends nothing. ``!help`` lists the
commands. Messages written on the bot's own node (``own``: its replies included) are
never commands, so the bot answers the *other* members of the circle. A handler that
raises, or a reply felundd refuses, is logged and the bot goes on with the next
message. Members are answered at most 10 commands in a burst, then one per 3 s each,
and everyone together 60, then two per second (:mod:`felund.limits`); commands over
that are skipped (logged once per stretch). Events resume after a felundd restart
(see :meth:`felund.Client.events`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from felund import api, limits
from felund._ratelimit import RateLimit
from felund.client import Client
from felund.errors import ApiError, FelundError

log = logging.getLogger("felund.bot")

#: What a command handler is given (the message and the text after the command
#: name, trimmed) and returns (the reply, or None for no reply).
Handler = Callable[[api.Message, str], Optional[str]]

#: Environment variable naming the circle a :class:`Bot` listens to by default.
CIRCLE_ENV = "FELUND_BOT_CIRCLE"


@dataclass(frozen=True)
class Command:
    """A registered command."""

    name: str
    help: str
    handler: Handler


class Bot:
    """Answers commands in one circle (or every circle) of the felundd it connects to.

    ``circle`` defaults to ``$FELUND_BOT_CIRCLE``, and without it to every circle;
    ``socket`` defaults like felundctl's (``$FELUND_SOCKET``, else felundd's default).
    """

    def __init__(self, circle: str | None = None, socket: str | os.PathLike[str] | None = None,
                 *, prefix: str = "!") -> None:
        self.circle = circle if circle is not None else os.environ.get(CIRCLE_ENV, "")
        self.socket = socket
        self.prefix = prefix
        self._commands: dict[str, Command] = {}
        #: How often members are answered (see :mod:`felund.limits`); replaceable.
        self.rate_limit = RateLimit()
        self._limited: set[str] = set()

    def command(self, name: str, help: str = "") -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of ``!name``."""
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"a command name is one word, not {name!r}")

        def register(handler: Handler) -> Handler:
            self._commands[name] = Command(name, help, handler)
            return handler

        return register

    def help_text(self) -> str:
        """What ``!help`` answers: every command with its help."""
        entries = [self._describe(c.name, c.help) for c in self._commands.values()]
        if "help" not in self._commands:
            entries.append(self._describe("help", "this list"))
        return "commands: " + ", ".join(entries)

    def _describe(self, name: str, help: str) -> str:
        return f"{self.prefix}{name} ({help})" if help else f"{self.prefix}{name}"

    def answer(self, msg: api.Message) -> str | None:
        """The reply to ``msg``, or None: not a command, the bot's own, or no answer."""
        text = msg.text.strip()
        if msg.own or not text.startswith(self.prefix):
            return None
        body = text[len(self.prefix):]
        if not body or body[0].isspace():
            return None
        name, *rest = body.split(None, 1)  # the name ends at any whitespace
        args = rest[0].strip() if rest else ""
        command = self._commands.get(name)
        if command is None and name != "help":
            return None
        if not self._allowed(msg.author_node_id):
            return None
        if command is None:
            return self.help_text()
        try:
            return command.handler(msg, args) or None
        except Exception:  # a bug in one handler must not stop the bot
            log.exception("the %r handler failed on message %s", name, msg.msg_id)
            return None

    def _allowed(self, author: str) -> bool:
        """Whether ``author`` may be answered now; logs once per stretch of refusals."""
        if self.rate_limit.allow(author):
            self._limited.discard(author)
            return True
        if author not in self._limited:
            if len(self._limited) >= limits.BOT_TRACKED_AUTHORS:
                self._limited.clear()
            self._limited.add(author)
            log.warning("not answering %s for now: too many commands", author[:8] or "?")
        return False

    def run(self) -> None:
        """Connect and answer commands until interrupted.

        Logs to stderr at INFO level unless the program has configured logging.
        Exits the program with status 2 and a one-line reason when felundd is not
        running or refuses the circle.
        """
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        try:
            with Client(self.socket) as client:
                self._serve(client)
        except FelundError as e:
            print(f"bot: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            pass

    def _serve(self, client: Client) -> None:
        where = f"circle {self.circle}" if self.circle else "every circle"
        log.info("listening to %s on %s", where, client.socket)
        for event in client.events(self.circle):
            if event.HasField("lagged"):
                log.warning("fell behind; %d events were dropped", event.lagged.missed)
            if not event.HasField("message"):
                continue
            reply = self.answer(event.message)
            if reply is None:
                continue
            try:
                sent = client.reply(event.message, reply)
                log.info("answered %s with %s", event.message.msg_id, sent.msg_id)
            except ApiError as e:
                log.warning("could not answer %s: %s", event.message.msg_id, e)
