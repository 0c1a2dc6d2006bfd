//! The WebSocket push frame: `{"t":"MESSAGES","messages":[…],"server_time":ts,"cursor":seq}`.

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};

use super::bounded::{lenient, RawList};
use super::limits::PULL_LIMIT_MAX;

/// What a client may send on the push feed (relays ignore it, and everything else).
pub const PONG: &str = r#"{"t":"PONG"}"#;

/// The `t` of a push frame: writes `"MESSAGES"`, reads nothing else (another frame type is
/// not a push of messages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessagesTag;

impl MessagesTag {
    /// Its wire text.
    pub const TEXT: &'static str = "MESSAGES";
}

impl Serialize for MessagesTag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Self::TEXT)
    }
}

impl<'de> Deserialize<'de> for MessagesTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if t == Self::TEXT {
            Ok(MessagesTag)
        } else {
            Err(D::Error::custom("not a MESSAGES frame"))
        }
    }
}

/// Message objects pushed to a subscriber: newly stored ones, or the replay on connect. `M` is
/// the list of objects, as in [`PullAnswer`](super::PullAnswer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessagesFrame<M> {
    /// `"MESSAGES"`.
    pub t: MessagesTag,
    /// The objects, exactly as they were pushed.
    pub messages: M,
    /// The relay's clock.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_time: Option<i64>,
    /// felund-relay: the seq of the frame's last object.
    #[serde(
        default,
        deserialize_with = "lenient::int",
        skip_serializing_if = "Option::is_none"
    )]
    pub cursor: Option<i64>,
}

/// A push frame as a client reads it: at most a pull page of objects, unparsed.
pub type PushedFrame<'a> = MessagesFrame<RawList<'a, { PULL_LIMIT_MAX as usize }>>;
