"""Every bound the client applies, in one place (the Rust helper in felund-client's
``limits`` module uses the same values)."""

#: How long connecting to felundd's socket may take before it counts as not running.
CONNECT_TIMEOUT_S = 5.0

#: Default deadline of every request (not of the event stream, which is open-ended).
CALL_TIMEOUT_S = 30.0

#: First pause before resubscribing after the event stream broke; doubles per failure.
RECONNECT_INITIAL_S = 0.1

#: Longest pause between resubscribe attempts while felundd is away.
RECONNECT_MAX_S = 5.0

#: The largest text felundd accepts in one message, in UTF-8 bytes.
MAX_TEXT_BYTES = 4096

#: ``ListMessages`` answers at most this many messages per page (felund-proto's
#: ``limits::LIST_MESSAGES_MAX_PAGE``).
LIST_MESSAGES_MAX_PAGE = 1000

#: A bot answers one member at most this many commands in a burst...
BOT_BURST_PER_AUTHOR = 10

#: ...and then one command per this many seconds: a member cannot make the bot
#: write faster than that.
BOT_REFILL_PER_AUTHOR_S = 3.0

#: A bot answers everyone together at most this many commands in a burst (members
#: can write under any number of node ids, so per-author buckets alone do not bound
#: the bot's output)...
BOT_BURST_TOTAL = 60

#: ...and then one command per this many seconds.
BOT_REFILL_TOTAL_S = 0.5

#: How many authors' buckets a bot keeps; the least recently seen is forgotten.
BOT_TRACKED_AUTHORS = 1000
