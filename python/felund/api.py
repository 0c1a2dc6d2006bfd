"""The ``felund.v1`` API types: requests, responses and events, as generated from
``proto/felund.proto`` (e.g. :class:`Message`, :class:`Event`, :class:`Circle`,
``ACCESS_MODE_KEY``). Fully typed through the generated ``.pyi``."""

from felund._proto.felund_pb2 import *  # noqa: F403  (the whole generated module is the API)
