"""Choosing what a reconnect delivers from the messages felundd lists (pure)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import grpc

from felund import api, limits

log = logging.getLogger("felund")


def missed(pages: Iterable[tuple[str, str, api.ListMessagesResponse]], cutoff: int) -> list[api.Message]:
    """The listed messages created at or after ``cutoff``, oldest first.

    ``pages`` holds the newest page of each joined channel as (circle, channel, page).
    """
    found: list[api.Message] = []
    for circle, channel, page in pages:
        fresh = [m for m in page.messages if m.created_ts >= cutoff]
        if len(fresh) >= limits.GAP_FILL_PAGE:
            log.warning("over %d messages in %s/#%s while the event stream was away; "
                        "older ones are not delivered (list them with list_messages)",
                        limits.GAP_FILL_PAGE, circle[:8], channel)
        found.extend(fresh)
    found.sort(key=lambda m: m.created_ts)
    return found


def retryable(code: grpc.StatusCode) -> bool:
    """Whether a failed Subscribe is felundd being away (resubscribe) rather than a refusal."""
    return code == grpc.StatusCode.UNAVAILABLE
