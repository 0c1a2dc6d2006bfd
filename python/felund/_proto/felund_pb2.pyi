from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccessMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_MODE_UNSPECIFIED: _ClassVar[AccessMode]
    ACCESS_MODE_PUBLIC: _ClassVar[AccessMode]
    ACCESS_MODE_KEY: _ClassVar[AccessMode]
    ACCESS_MODE_INVITE: _ClassVar[AccessMode]
ACCESS_MODE_UNSPECIFIED: AccessMode
ACCESS_MODE_PUBLIC: AccessMode
ACCESS_MODE_KEY: AccessMode
ACCESS_MODE_INVITE: AccessMode

class GetNodeInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeInfo(_message.Message):
    __slots__ = ("node_id", "display_name", "listen_addr", "advertise_addr", "version", "uptime_s", "circle_count", "message_count", "peer_count", "state_dir", "socket_path", "relay_url", "anchor", "subscriber_count", "gossip_sessions_ok", "gossip_sessions_failed", "gossip_bytes_in", "gossip_bytes_out", "live_links", "relay_ok", "relay_last_success", "relay_last_error", "relay_push_connected", "config", "dial_candidate_count", "relay_last_attempt", "last_seq", "gossip_last_sync", "unreachable_peers", "datachannel_enabled", "datachannel_peers", "datachannel_failed")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LISTEN_ADDR_FIELD_NUMBER: _ClassVar[int]
    ADVERTISE_ADDR_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PEER_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_DIR_FIELD_NUMBER: _ClassVar[int]
    SOCKET_PATH_FIELD_NUMBER: _ClassVar[int]
    RELAY_URL_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_SESSIONS_OK_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_SESSIONS_FAILED_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    LIVE_LINKS_FIELD_NUMBER: _ClassVar[int]
    RELAY_OK_FIELD_NUMBER: _ClassVar[int]
    RELAY_LAST_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    RELAY_LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    RELAY_PUSH_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    DIAL_CANDIDATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RELAY_LAST_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_LAST_SYNC_FIELD_NUMBER: _ClassVar[int]
    UNREACHABLE_PEERS_FIELD_NUMBER: _ClassVar[int]
    DATACHANNEL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    DATACHANNEL_PEERS_FIELD_NUMBER: _ClassVar[int]
    DATACHANNEL_FAILED_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    display_name: str
    listen_addr: str
    advertise_addr: str
    version: str
    uptime_s: int
    circle_count: int
    message_count: int
    peer_count: int
    state_dir: str
    socket_path: str
    relay_url: str
    anchor: bool
    subscriber_count: int
    gossip_sessions_ok: int
    gossip_sessions_failed: int
    gossip_bytes_in: int
    gossip_bytes_out: int
    live_links: int
    relay_ok: bool
    relay_last_success: int
    relay_last_error: str
    relay_push_connected: bool
    config: _containers.RepeatedCompositeFieldContainer[ConfigEntry]
    dial_candidate_count: int
    relay_last_attempt: int
    last_seq: int
    gossip_last_sync: int
    unreachable_peers: _containers.RepeatedCompositeFieldContainer[UnreachablePeer]
    datachannel_enabled: bool
    datachannel_peers: _containers.RepeatedCompositeFieldContainer[DataChannelPeer]
    datachannel_failed: int
    def __init__(self, node_id: _Optional[str] = ..., display_name: _Optional[str] = ..., listen_addr: _Optional[str] = ..., advertise_addr: _Optional[str] = ..., version: _Optional[str] = ..., uptime_s: _Optional[int] = ..., circle_count: _Optional[int] = ..., message_count: _Optional[int] = ..., peer_count: _Optional[int] = ..., state_dir: _Optional[str] = ..., socket_path: _Optional[str] = ..., relay_url: _Optional[str] = ..., anchor: _Optional[bool] = ..., subscriber_count: _Optional[int] = ..., gossip_sessions_ok: _Optional[int] = ..., gossip_sessions_failed: _Optional[int] = ..., gossip_bytes_in: _Optional[int] = ..., gossip_bytes_out: _Optional[int] = ..., live_links: _Optional[int] = ..., relay_ok: _Optional[bool] = ..., relay_last_success: _Optional[int] = ..., relay_last_error: _Optional[str] = ..., relay_push_connected: _Optional[bool] = ..., config: _Optional[_Iterable[_Union[ConfigEntry, _Mapping]]] = ..., dial_candidate_count: _Optional[int] = ..., relay_last_attempt: _Optional[int] = ..., last_seq: _Optional[int] = ..., gossip_last_sync: _Optional[int] = ..., unreachable_peers: _Optional[_Iterable[_Union[UnreachablePeer, _Mapping]]] = ..., datachannel_enabled: _Optional[bool] = ..., datachannel_peers: _Optional[_Iterable[_Union[DataChannelPeer, _Mapping]]] = ..., datachannel_failed: _Optional[int] = ...) -> None: ...

class DataChannelPeer(_message.Message):
    __slots__ = ("node_id", "circle_id", "relay_url", "remote_addr", "since", "messages_in", "messages_out", "display_name")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    RELAY_URL_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDR_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_IN_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_OUT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    circle_id: str
    relay_url: str
    remote_addr: str
    since: int
    messages_in: int
    messages_out: int
    display_name: str
    def __init__(self, node_id: _Optional[str] = ..., circle_id: _Optional[str] = ..., relay_url: _Optional[str] = ..., remote_addr: _Optional[str] = ..., since: _Optional[int] = ..., messages_in: _Optional[int] = ..., messages_out: _Optional[int] = ..., display_name: _Optional[str] = ...) -> None: ...

class UnreachablePeer(_message.Message):
    __slots__ = ("addr", "node_id", "display_name", "error", "since")
    ADDR_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    addr: str
    node_id: str
    display_name: str
    error: str
    since: int
    def __init__(self, addr: _Optional[str] = ..., node_id: _Optional[str] = ..., display_name: _Optional[str] = ..., error: _Optional[str] = ..., since: _Optional[int] = ...) -> None: ...

class ConfigEntry(_message.Message):
    __slots__ = ("key", "value", "source")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    source: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class SetRelayRequest(_message.Message):
    __slots__ = ("relay_url",)
    RELAY_URL_FIELD_NUMBER: _ClassVar[int]
    relay_url: str
    def __init__(self, relay_url: _Optional[str] = ...) -> None: ...

class SetDisplayNameRequest(_message.Message):
    __slots__ = ("display_name",)
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    def __init__(self, display_name: _Optional[str] = ...) -> None: ...

class Circle(_message.Message):
    __slots__ = ("circle_id", "name", "message_count", "member_count", "peer_count", "last_message_ts", "last_sync_ts")
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    PEER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_TS_FIELD_NUMBER: _ClassVar[int]
    LAST_SYNC_TS_FIELD_NUMBER: _ClassVar[int]
    circle_id: str
    name: str
    message_count: int
    member_count: int
    peer_count: int
    last_message_ts: int
    last_sync_ts: int
    def __init__(self, circle_id: _Optional[str] = ..., name: _Optional[str] = ..., message_count: _Optional[int] = ..., member_count: _Optional[int] = ..., peer_count: _Optional[int] = ..., last_message_ts: _Optional[int] = ..., last_sync_ts: _Optional[int] = ...) -> None: ...

class CreateCircleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateCircleResponse(_message.Message):
    __slots__ = ("circle", "invite_code")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    INVITE_CODE_FIELD_NUMBER: _ClassVar[int]
    circle: Circle
    invite_code: str
    def __init__(self, circle: _Optional[_Union[Circle, _Mapping]] = ..., invite_code: _Optional[str] = ...) -> None: ...

class JoinCircleRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class JoinCircleResponse(_message.Message):
    __slots__ = ("circle", "newly_joined", "peer", "peer_reached", "peer_error")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    NEWLY_JOINED_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    PEER_REACHED_FIELD_NUMBER: _ClassVar[int]
    PEER_ERROR_FIELD_NUMBER: _ClassVar[int]
    circle: Circle
    newly_joined: bool
    peer: str
    peer_reached: bool
    peer_error: str
    def __init__(self, circle: _Optional[_Union[Circle, _Mapping]] = ..., newly_joined: _Optional[bool] = ..., peer: _Optional[str] = ..., peer_reached: _Optional[bool] = ..., peer_error: _Optional[str] = ...) -> None: ...

class LeaveCircleRequest(_message.Message):
    __slots__ = ("circle",)
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    circle: str
    def __init__(self, circle: _Optional[str] = ...) -> None: ...

class LeaveCircleResponse(_message.Message):
    __slots__ = ("circle_id",)
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    circle_id: str
    def __init__(self, circle_id: _Optional[str] = ...) -> None: ...

class RenameCircleRequest(_message.Message):
    __slots__ = ("circle", "name")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    circle: str
    name: str
    def __init__(self, circle: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class GetInviteCodeRequest(_message.Message):
    __slots__ = ("circle",)
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    circle: str
    def __init__(self, circle: _Optional[str] = ...) -> None: ...

class InviteCode(_message.Message):
    __slots__ = ("circle_id", "code", "peer")
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    circle_id: str
    code: str
    peer: str
    def __init__(self, circle_id: _Optional[str] = ..., code: _Optional[str] = ..., peer: _Optional[str] = ...) -> None: ...

class ListCirclesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCirclesResponse(_message.Message):
    __slots__ = ("circles",)
    CIRCLES_FIELD_NUMBER: _ClassVar[int]
    circles: _containers.RepeatedCompositeFieldContainer[Circle]
    def __init__(self, circles: _Optional[_Iterable[_Union[Circle, _Mapping]]] = ...) -> None: ...

class Channel(_message.Message):
    __slots__ = ("circle_id", "channel_id", "access_mode", "created_by", "created_ts", "joined", "requested", "member_count", "pending_requests", "read_seq", "unread_count", "unread_mentions")
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    ACCESS_MODE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_TS_FIELD_NUMBER: _ClassVar[int]
    JOINED_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    READ_SEQ_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNREAD_MENTIONS_FIELD_NUMBER: _ClassVar[int]
    circle_id: str
    channel_id: str
    access_mode: AccessMode
    created_by: str
    created_ts: int
    joined: bool
    requested: bool
    member_count: int
    pending_requests: _containers.RepeatedScalarFieldContainer[str]
    read_seq: int
    unread_count: int
    unread_mentions: int
    def __init__(self, circle_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., access_mode: _Optional[_Union[AccessMode, str]] = ..., created_by: _Optional[str] = ..., created_ts: _Optional[int] = ..., joined: _Optional[bool] = ..., requested: _Optional[bool] = ..., member_count: _Optional[int] = ..., pending_requests: _Optional[_Iterable[str]] = ..., read_seq: _Optional[int] = ..., unread_count: _Optional[int] = ..., unread_mentions: _Optional[int] = ...) -> None: ...

class MarkReadRequest(_message.Message):
    __slots__ = ("circle", "channel", "seq")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    seq: int
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ..., seq: _Optional[int] = ...) -> None: ...

class ListChannelsRequest(_message.Message):
    __slots__ = ("circle",)
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    circle: str
    def __init__(self, circle: _Optional[str] = ...) -> None: ...

class ListChannelsResponse(_message.Message):
    __slots__ = ("channels",)
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[Channel]
    def __init__(self, channels: _Optional[_Iterable[_Union[Channel, _Mapping]]] = ...) -> None: ...

class CreateChannelRequest(_message.Message):
    __slots__ = ("circle", "channel", "access_mode", "key")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACCESS_MODE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    access_mode: AccessMode
    key: str
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ..., access_mode: _Optional[_Union[AccessMode, str]] = ..., key: _Optional[str] = ...) -> None: ...

class JoinChannelRequest(_message.Message):
    __slots__ = ("circle", "channel", "key")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    key: str
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class JoinChannelResponse(_message.Message):
    __slots__ = ("channel", "requested")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    channel: Channel
    requested: bool
    def __init__(self, channel: _Optional[_Union[Channel, _Mapping]] = ..., requested: _Optional[bool] = ...) -> None: ...

class LeaveChannelRequest(_message.Message):
    __slots__ = ("circle", "channel")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class ApproveChannelRequestRequest(_message.Message):
    __slots__ = ("circle", "channel", "node_id")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    node_id: str
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ..., node_id: _Optional[str] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("circle", "channel")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("node_id", "display_name", "is_self")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    IS_SELF_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    display_name: str
    is_self: bool
    def __init__(self, node_id: _Optional[str] = ..., display_name: _Optional[str] = ..., is_self: _Optional[bool] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("msg_id", "circle_id", "channel_id", "author_node_id", "display_name", "created_ts", "text", "own", "seq", "order_ms")
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_TS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    OWN_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ORDER_MS_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    circle_id: str
    channel_id: str
    author_node_id: str
    display_name: str
    created_ts: int
    text: str
    own: bool
    seq: int
    order_ms: int
    def __init__(self, msg_id: _Optional[str] = ..., circle_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., author_node_id: _Optional[str] = ..., display_name: _Optional[str] = ..., created_ts: _Optional[int] = ..., text: _Optional[str] = ..., own: _Optional[bool] = ..., seq: _Optional[int] = ..., order_ms: _Optional[int] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ("circle", "channel", "text")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    text: str
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class ListMessagesRequest(_message.Message):
    __slots__ = ("circle", "channel", "limit", "before", "after", "from_start")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    FROM_START_FIELD_NUMBER: _ClassVar[int]
    circle: str
    channel: str
    limit: int
    before: str
    after: str
    from_start: bool
    def __init__(self, circle: _Optional[str] = ..., channel: _Optional[str] = ..., limit: _Optional[int] = ..., before: _Optional[str] = ..., after: _Optional[str] = ..., from_start: _Optional[bool] = ...) -> None: ...

class ListMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_before", "next_after")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    next_before: str
    next_after: str
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., next_before: _Optional[str] = ..., next_after: _Optional[str] = ...) -> None: ...

class Peer(_message.Message):
    __slots__ = ("node_id", "circle_id", "addr", "last_seen", "display_name", "transport")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDR_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    circle_id: str
    addr: str
    last_seen: int
    display_name: str
    transport: str
    def __init__(self, node_id: _Optional[str] = ..., circle_id: _Optional[str] = ..., addr: _Optional[str] = ..., last_seen: _Optional[int] = ..., display_name: _Optional[str] = ..., transport: _Optional[str] = ...) -> None: ...

class ListPeersRequest(_message.Message):
    __slots__ = ("circle",)
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    circle: str
    def __init__(self, circle: _Optional[str] = ...) -> None: ...

class ListPeersResponse(_message.Message):
    __slots__ = ("peers",)
    PEERS_FIELD_NUMBER: _ClassVar[int]
    peers: _containers.RepeatedCompositeFieldContainer[Peer]
    def __init__(self, peers: _Optional[_Iterable[_Union[Peer, _Mapping]]] = ...) -> None: ...

class SearchMessagesRequest(_message.Message):
    __slots__ = ("query", "circle", "channel", "limit")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    query: str
    circle: str
    channel: str
    limit: int
    def __init__(self, query: _Optional[str] = ..., circle: _Optional[str] = ..., channel: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SearchMessagesResponse(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ...) -> None: ...

class ImportStateRequest(_message.Message):
    __slots__ = ("state_json",)
    STATE_JSON_FIELD_NUMBER: _ClassVar[int]
    state_json: bytes
    def __init__(self, state_json: _Optional[bytes] = ...) -> None: ...

class ImportStateResponse(_message.Message):
    __slots__ = ("adopted_node_id", "circles", "messages", "peers", "channels", "warnings", "beyond_retention")
    ADOPTED_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CIRCLES_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    BEYOND_RETENTION_FIELD_NUMBER: _ClassVar[int]
    adopted_node_id: str
    circles: int
    messages: int
    peers: int
    channels: int
    warnings: _containers.RepeatedScalarFieldContainer[str]
    beyond_retention: int
    def __init__(self, adopted_node_id: _Optional[str] = ..., circles: _Optional[int] = ..., messages: _Optional[int] = ..., peers: _Optional[int] = ..., channels: _Optional[int] = ..., warnings: _Optional[_Iterable[str]] = ..., beyond_retention: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("circle", "after_seq")
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    circle: str
    after_seq: int
    def __init__(self, circle: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("message", "channel", "circle", "peer", "display_name", "lagged", "read")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LAGGED_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    message: Message
    channel: ChannelEvent
    circle: CircleEvent
    peer: PeerEvent
    display_name: DisplayNameEvent
    lagged: Lagged
    read: ReadEvent
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ..., channel: _Optional[_Union[ChannelEvent, _Mapping]] = ..., circle: _Optional[_Union[CircleEvent, _Mapping]] = ..., peer: _Optional[_Union[PeerEvent, _Mapping]] = ..., display_name: _Optional[_Union[DisplayNameEvent, _Mapping]] = ..., lagged: _Optional[_Union[Lagged, _Mapping]] = ..., read: _Optional[_Union[ReadEvent, _Mapping]] = ...) -> None: ...

class ReadEvent(_message.Message):
    __slots__ = ("circle_id", "channel_id", "read_seq")
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    READ_SEQ_FIELD_NUMBER: _ClassVar[int]
    circle_id: str
    channel_id: str
    read_seq: int
    def __init__(self, circle_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., read_seq: _Optional[int] = ...) -> None: ...

class ChannelEvent(_message.Message):
    __slots__ = ("kind", "circle_id", "channel_id", "node_id")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[ChannelEvent.Kind]
        KIND_CREATED: _ClassVar[ChannelEvent.Kind]
        KIND_MEMBER_JOINED: _ClassVar[ChannelEvent.Kind]
        KIND_MEMBER_LEFT: _ClassVar[ChannelEvent.Kind]
        KIND_REQUESTED: _ClassVar[ChannelEvent.Kind]
        KIND_APPROVED: _ClassVar[ChannelEvent.Kind]
    KIND_UNSPECIFIED: ChannelEvent.Kind
    KIND_CREATED: ChannelEvent.Kind
    KIND_MEMBER_JOINED: ChannelEvent.Kind
    KIND_MEMBER_LEFT: ChannelEvent.Kind
    KIND_REQUESTED: ChannelEvent.Kind
    KIND_APPROVED: ChannelEvent.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    kind: ChannelEvent.Kind
    circle_id: str
    channel_id: str
    node_id: str
    def __init__(self, kind: _Optional[_Union[ChannelEvent.Kind, str]] = ..., circle_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., node_id: _Optional[str] = ...) -> None: ...

class CircleEvent(_message.Message):
    __slots__ = ("kind", "circle")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[CircleEvent.Kind]
        KIND_JOINED: _ClassVar[CircleEvent.Kind]
        KIND_LEFT: _ClassVar[CircleEvent.Kind]
        KIND_RENAMED: _ClassVar[CircleEvent.Kind]
    KIND_UNSPECIFIED: CircleEvent.Kind
    KIND_JOINED: CircleEvent.Kind
    KIND_LEFT: CircleEvent.Kind
    KIND_RENAMED: CircleEvent.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    CIRCLE_FIELD_NUMBER: _ClassVar[int]
    kind: CircleEvent.Kind
    circle: Circle
    def __init__(self, kind: _Optional[_Union[CircleEvent.Kind, str]] = ..., circle: _Optional[_Union[Circle, _Mapping]] = ...) -> None: ...

class PeerEvent(_message.Message):
    __slots__ = ("circle_id", "peer")
    CIRCLE_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    circle_id: str
    peer: Peer
    def __init__(self, circle_id: _Optional[str] = ..., peer: _Optional[_Union[Peer, _Mapping]] = ...) -> None: ...

class DisplayNameEvent(_message.Message):
    __slots__ = ("node_id", "display_name")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    display_name: str
    def __init__(self, node_id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Lagged(_message.Message):
    __slots__ = ("missed",)
    MISSED_FIELD_NUMBER: _ClassVar[int]
    missed: int
    def __init__(self, missed: _Optional[int] = ...) -> None: ...
