//! What the app knows about the daemon's state: circles, channels, members,
//! peers, names, and the loaded part of each channel's log.

use std::collections::{HashMap, HashSet};

use crate::model::{ChannelView, ChatMessage, CircleView, Member, PeerView, Snapshot};

/// Identifies one channel of one circle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelKey {
    /// Circle id.
    pub circle: String,
    /// Channel name.
    pub channel: String,
}

impl ChannelKey {
    /// A key from its parts.
    pub fn new(circle: &str, channel: &str) -> Self {
        Self {
            circle: circle.to_string(),
            channel: channel.to_string(),
        }
    }
}

/// How a notice (a status line in the log) looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Result of a command, help text.
    Info,
    /// Something went wrong.
    Error,
    /// Something happened in the circle (joins, renames).
    Event,
}

/// One entry of a channel's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A chat message.
    Message(ChatMessage),
    /// A status line from the app itself.
    Notice {
        /// Kind of notice.
        kind: NoticeKind,
        /// The text.
        text: String,
    },
}

/// The loaded part of one channel's history, plus unread counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelLog {
    /// Entries in display order.
    pub entries: Vec<Entry>,
    ids: HashSet<String>,
    /// Cursor for the page before the oldest loaded message, if there is one.
    pub older: Option<String>,
    /// Whether the newest page was loaded (since the last (re)connect).
    pub loaded: bool,
    /// Whether a page request is under way.
    pub loading: bool,
    /// Whether any newest page was ever merged (before a reconnect, say).
    ever_loaded: bool,
    /// The newest message held when the connection was lost: a reload after the
    /// reconnect pages back until it reaches it, so nothing missed is left out.
    resume_after: Option<String>,
    /// Pages fetched so far while filling that gap (newest first, kept in order).
    gap: Option<(Vec<ChatMessage>, usize)>,
    /// The daemon's read marker for this channel, as last known.
    pub read_seq: u64,
    /// Messages that arrived while the channel was not shown.
    pub unread: usize,
    /// How many of those mention this node.
    pub mentions: usize,
}

impl ChannelLog {
    /// Adds a message unless it is already there, where it sorts among the messages
    /// loaded (the channel's order, the same on every node: a message that arrives late,
    /// say by a catch-up, goes where it belongs, not at the end). Returns whether it was
    /// new.
    pub fn push_message(&mut self, m: ChatMessage) -> bool {
        if !self.ids.insert(m.id.clone()) {
            return false;
        }
        let key = (m.order_ms, m.id.clone());
        let after = self.entries.iter().rposition(|e| match e {
            Entry::Message(o) => (o.order_ms, o.id.as_str()) <= (key.0, key.1.as_str()),
            Entry::Notice { .. } => false,
        });
        let newest = self
            .entries
            .iter()
            .rposition(|e| matches!(e, Entry::Message(_)));
        match (after, newest) {
            // Newest of all (the usual case): at the end, after any notices.
            (Some(a), Some(n)) if a == n => self.entries.push(Entry::Message(m)),
            (Some(a), _) => self.entries.insert(a + 1, Entry::Message(m)),
            (None, None) => self.entries.push(Entry::Message(m)),
            (None, Some(_)) => {
                let first = self
                    .entries
                    .iter()
                    .position(|e| matches!(e, Entry::Message(_)))
                    .unwrap_or(0);
                self.entries.insert(first, Entry::Message(m));
            }
        }
        true
    }

    /// Appends a notice.
    pub fn push_notice(&mut self, kind: NoticeKind, text: impl Into<String>) {
        self.entries.push(Entry::Notice {
            kind,
            text: text.into(),
        });
    }

    /// The seq of the newest loaded message (0: none).
    pub fn newest_seq(&self) -> u64 {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Message(m) => Some(m.seq),
                Entry::Notice { .. } => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// Takes a read marker from the daemon (set by any client of the node): counts
    /// again what is unread after it among the loaded messages.
    pub fn read_up_to(&mut self, read_seq: u64, is_mention: impl Fn(&ChatMessage) -> bool) {
        self.read_seq = self.read_seq.max(read_seq);
        let after: Vec<&ChatMessage> = self
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Message(m) if !m.own && m.seq > self.read_seq => Some(m),
                _ => None,
            })
            .collect();
        self.unread = after.len();
        self.mentions = after.iter().filter(|m| is_mention(m)).count();
    }

    /// Whether a message with this id is loaded.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Number of loaded messages.
    pub fn message_count(&self) -> usize {
        self.ids.len()
    }

    /// Called when the connection comes back: the next newest page is a reload.
    pub fn mark_reconnected(&mut self) {
        self.loaded = false;
        self.loading = false;
        self.gap = None;
        if self.resume_after.is_none() {
            self.resume_after = self.entries.iter().rev().find_map(|e| match e {
                Entry::Message(m) => Some(m.id.clone()),
                Entry::Notice { .. } => None,
            });
        }
    }

    /// Merges a page from `ListMessages`, skipping messages already there. An
    /// older page goes before everything loaded. The first newest page goes
    /// before what arrived live meanwhile; a later one (after a reconnect) only
    /// adds what was missed, so it goes at the end — and when it does not reach back
    /// to the newest message held before the outage, the cursor of the page before it
    /// is returned: the caller fetches it, and the pages are added together, in order,
    /// once they meet what was held (or the history ends).
    pub fn merge_page(
        &mut self,
        page: Vec<ChatMessage>,
        next_before: Option<String>,
        older: bool,
    ) -> Option<String> {
        if let Some((mut stash, pages)) = self.gap.take() {
            let mut all = page;
            all.append(&mut stash);
            let met = self
                .resume_after
                .as_ref()
                .is_some_and(|a| all.iter().any(|m| &m.id == a));
            if !met && next_before.is_some() && pages < MAX_GAP_PAGES {
                self.gap = Some((all, pages + 1));
                return next_before;
            }
            self.resume_after = None;
            self.merge_fresh(all, None, false);
            return None;
        }
        if !older && self.ever_loaded {
            if let Some(anchor) = self.resume_after.clone() {
                if !page.iter().any(|m| m.id == anchor) && next_before.is_some() {
                    self.gap = Some((page, 1));
                    self.loaded = true;
                    return next_before;
                }
            }
            self.resume_after = None;
        }
        self.merge_fresh(page, next_before, older);
        None
    }

    fn merge_fresh(&mut self, page: Vec<ChatMessage>, next_before: Option<String>, older: bool) {
        let fresh: Vec<Entry> = page
            .into_iter()
            .filter(|m| self.ids.insert(m.id.clone()))
            .map(Entry::Message)
            .collect();
        if older || !self.ever_loaded {
            self.older = next_before;
        }
        if older || !self.ever_loaded {
            self.entries.splice(0..0, fresh);
        } else {
            self.entries.extend(fresh);
        }
        if !older {
            self.loaded = true;
            self.ever_loaded = true;
        }
        self.loading = false;
    }
}

/// Most pages fetched to fill the gap after a reconnect (10,000 messages); beyond it
/// the oldest missed messages are left to scrolling up.
const MAX_GAP_PAGES: usize = 100;

/// A cache of the daemon's state: everything the app has listed or learned from
/// events (felundd owns the truth; this is refilled after every reconnect).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cache {
    /// Circles, sorted by label.
    pub circles: Vec<CircleView>,
    /// Channels of each circle: `general` first, then by name.
    pub channels: HashMap<String, Vec<ChannelView>>,
    /// Loaded logs.
    pub logs: HashMap<ChannelKey, ChannelLog>,
    /// Latest known display name of each node.
    pub names: HashMap<String, String>,
    /// Members of each circle.
    pub members: HashMap<String, Vec<Member>>,
    /// Known peers of each circle, by node id.
    pub peers: HashMap<String, HashMap<String, PeerView>>,
}

impl Cache {
    /// Replaces circles, channels, members and peers with a fresh listing.
    /// Logs are kept, but marked as needing a reload.
    pub fn apply_snapshot(&mut self, snap: &Snapshot) {
        self.circles.clear();
        for c in &snap.circles {
            self.upsert_circle(c.clone());
        }
        self.channels.clear();
        for (circle, chans) in &snap.channels {
            self.set_channels(circle, chans.clone());
        }
        self.members.clear();
        for (circle, members) in &snap.members {
            self.set_members(circle, members.clone());
        }
        self.peers.clear();
        for p in &snap.peers {
            self.add_peer(p.clone());
        }
        if !snap.node.display_name.is_empty() {
            self.names
                .insert(snap.node.node_id.clone(), snap.node.display_name.clone());
        }
        let known: HashSet<&str> = self.circles.iter().map(|c| c.id.as_str()).collect();
        self.logs.retain(|k, _| known.contains(k.circle.as_str()));
        for log in self.logs.values_mut() {
            log.mark_reconnected();
        }
    }

    /// The circle with this id.
    pub fn circle(&self, id: &str) -> Option<&CircleView> {
        self.circles.iter().find(|c| c.id == id)
    }

    /// Adds or updates a circle, keeping the list sorted; makes sure it has a
    /// `general` channel.
    pub fn upsert_circle(&mut self, c: CircleView) {
        let id = c.id.clone();
        match self.circles.iter_mut().find(|x| x.id == c.id) {
            Some(existing) => *existing = c,
            None => self.circles.push(c),
        }
        self.circles
            .sort_by_key(|c| (c.label().to_lowercase(), c.id.clone()));
        if !self.channels.contains_key(&id) {
            self.set_channels(&id, Vec::new());
        }
    }

    /// Forgets a circle and everything in it.
    pub fn remove_circle(&mut self, id: &str) {
        self.circles.retain(|c| c.id != id);
        self.channels.remove(id);
        self.members.remove(id);
        self.peers.remove(id);
        self.logs.retain(|k, _| k.circle != id);
    }

    /// Replaces a circle's channels (a `general` one is added if missing).
    pub fn set_channels(&mut self, circle: &str, mut chans: Vec<ChannelView>) {
        if !chans.iter().any(|c| c.id == "general") {
            chans.push(ChannelView {
                circle_id: circle.to_string(),
                id: "general".into(),
                joined: true,
                ..Default::default()
            });
        }
        chans.sort_by_key(|c| (c.id != "general", c.id.clone()));
        for c in &chans {
            // The daemon's counts are shared by every client and survive restarts.
            let log = self.log_mut(&ChannelKey::new(circle, &c.id));
            log.read_seq = log.read_seq.max(c.read_seq);
            log.unread = c.unread as usize;
            log.mentions = c.mentions as usize;
        }
        self.channels.insert(circle.to_string(), chans);
    }

    /// Adds or updates one channel.
    pub fn upsert_channel(&mut self, ch: ChannelView) {
        let mut list = self.channels.remove(&ch.circle_id).unwrap_or_default();
        list.retain(|c| c.id != ch.id);
        let circle = ch.circle_id.clone();
        list.push(ch);
        self.set_channels(&circle, list);
    }

    /// One channel of a circle.
    pub fn channel(&self, circle: &str, channel: &str) -> Option<&ChannelView> {
        self.channels.get(circle)?.iter().find(|c| c.id == channel)
    }

    /// A circle's channels (empty if unknown).
    pub fn channels_of(&self, circle: &str) -> &[ChannelView] {
        self.channels.get(circle).map_or(&[], Vec::as_slice)
    }

    /// Replaces a circle's members and learns their names.
    pub fn set_members(&mut self, circle: &str, members: Vec<Member>) {
        for m in &members {
            if !m.display_name.is_empty() {
                self.names.insert(m.node_id.clone(), m.display_name.clone());
            }
        }
        self.members.insert(circle.to_string(), members);
    }

    /// Adds or updates a known peer and learns its name.
    pub fn add_peer(&mut self, p: PeerView) {
        if !p.display_name.is_empty() {
            self.names.insert(p.node_id.clone(), p.display_name.clone());
        }
        self.peers
            .entry(p.circle_id.clone())
            .or_default()
            .insert(p.node_id.clone(), p);
    }

    /// Number of known peers of a circle (never counting this node).
    pub fn peer_count(&self, circle: &str, me: &str) -> usize {
        let from_peers = self
            .peers
            .get(circle)
            .map_or(0, |p| p.keys().filter(|id| *id != me).count());
        let listed = self.circle(circle).map_or(0, |c| c.peer_count as usize);
        from_peers.max(listed)
    }

    /// The log of a channel, if any was started.
    pub fn log(&self, key: &ChannelKey) -> Option<&ChannelLog> {
        self.logs.get(key)
    }

    /// The log of a channel, started if needed.
    pub fn log_mut(&mut self, key: &ChannelKey) -> &mut ChannelLog {
        self.logs.entry(key.clone()).or_default()
    }

    /// The author name shown on a message: the name it was sent with (as felundctl shows
    /// it, and as the message's MAC covers it; a later rename does not rewrite history),
    /// else the author's latest known name, else a short id.
    pub fn author_of(&self, m: &crate::model::ChatMessage) -> String {
        let sent = crate::text::sanitize_line(&m.display_name);
        if sent.trim().is_empty() {
            self.name_of(&m.author, "")
        } else {
            sent
        }
    }

    /// The name to show for a node: its latest known display name, else
    /// `fallback` (e.g. the name in a message), else its short id.
    pub fn name_of(&self, node_id: &str, fallback: &str) -> String {
        let name = self
            .names
            .get(node_id)
            .map(String::as_str)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(fallback);
        let name = crate::text::sanitize_line(name);
        if name.is_empty() {
            crate::text::short_id(node_id).to_string()
        } else {
            name
        }
    }

    /// The circle a person means by `query`: a full id, a unique id prefix, or a
    /// name (case-insensitive).
    pub fn find_circle(&self, query: &str) -> Option<&CircleView> {
        let q = query.trim();
        let lower = q.to_lowercase();
        if let Some(c) = self
            .circles
            .iter()
            .find(|c| c.id == q || c.name.to_lowercase() == lower)
        {
            return Some(c);
        }
        let mut prefixed = self.circles.iter().filter(|c| c.id.starts_with(q));
        match (prefixed.next(), prefixed.next()) {
            (Some(c), None) if !q.is_empty() => Some(c),
            _ => None,
        }
    }

    /// Every channel to cycle through with Ctrl+N/Ctrl+P: the joined ones, circle
    /// by circle in sidebar order.
    pub fn navigation_order(&self) -> Vec<ChannelKey> {
        self.circles
            .iter()
            .flat_map(|c| {
                self.channels_of(&c.id)
                    .iter()
                    .filter(|ch| ch.joined || ch.id == "general")
                    .map(|ch| ChannelKey::new(&c.id, &ch.id))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str) -> ChatMessage {
        ChatMessage {
            id: id.into(),
            ..Default::default()
        }
    }

    fn ids(log: &ChannelLog) -> Vec<String> {
        log.entries
            .iter()
            .map(|e| match e {
                Entry::Message(m) => m.id.clone(),
                Entry::Notice { text, .. } => format!("!{text}"),
            })
            .collect()
    }

    #[test]
    fn pages_merge_without_duplicates() {
        let mut log = ChannelLog::default();
        assert!(log.push_message(msg("live")));
        assert!(!log.push_message(msg("live")));
        log.push_notice(NoticeKind::Info, "n");
        log.merge_page(
            vec![msg("b"), msg("c"), msg("live")],
            Some("cur".into()),
            false,
        );
        assert_eq!(ids(&log), ["b", "c", "live", "!n"]);
        assert_eq!(log.older.as_deref(), Some("cur"));
        log.merge_page(vec![msg("a"), msg("b")], None, true);
        assert_eq!(ids(&log), ["a", "b", "c", "live", "!n"]);
        assert_eq!(log.older, None);
        assert_eq!(log.message_count(), 4);
        // After a reconnect, the newest page only adds what was missed, at the end.
        log.loaded = false;
        log.push_notice(NoticeKind::Info, "back");
        log.merge_page(vec![msg("live"), msg("missed")], Some("x".into()), false);
        assert_eq!(ids(&log), ["a", "b", "c", "live", "!n", "!back", "missed"]);
        assert_eq!(
            log.older, None,
            "the cursor of the oldest loaded page stays"
        );
    }

    #[test]
    fn circles_sort_by_label_and_find_by_prefix_or_name() {
        let mut s = Cache::default();
        for (id, name) in [("bbb111", "zoo"), ("aaa222", "Alpha"), ("aab333", "")] {
            s.upsert_circle(CircleView {
                id: id.into(),
                name: name.into(),
                ..Default::default()
            });
        }
        let order: Vec<&str> = s.circles.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(order, ["aab333", "aaa222", "bbb111"]);
        assert_eq!(
            s.find_circle("alpha").map(|c| c.id.as_str()),
            Some("aaa222")
        );
        assert_eq!(s.find_circle("bb").map(|c| c.id.as_str()), Some("bbb111"));
        assert!(s.find_circle("aa").is_none());
        assert_eq!(s.channels_of("aaa222")[0].id, "general");
        assert_eq!(s.navigation_order().len(), 3);
        s.remove_circle("aaa222");
        assert_eq!(s.circles.len(), 2);
    }

    #[test]
    fn a_reload_after_a_long_outage_pages_back_until_it_meets_what_was_held() {
        let mut log = ChannelLog::default();
        log.merge_page(vec![msg("a"), msg("b")], None, false);
        log.mark_reconnected();
        // The newest page lies wholly after the outage: ask for the one before it.
        let next = log.merge_page(vec![msg("x"), msg("y")], Some("p2".into()), false);
        assert_eq!(next.as_deref(), Some("p2"));
        assert_eq!(
            ids(&log),
            ["a", "b"],
            "nothing shown until the gap is filled"
        );
        let next = log.merge_page(vec![msg("c"), msg("d")], Some("p3".into()), true);
        assert_eq!(next.as_deref(), Some("p3"));
        // This page reaches "b": everything missed goes in, in order.
        assert_eq!(
            log.merge_page(vec![msg("b"), msg("m")], Some("p4".into()), true),
            None
        );
        assert_eq!(ids(&log), ["a", "b", "m", "c", "d", "x", "y"]);
        assert!(log.loaded && !log.loading);
        // The next reconnect with nothing missed beyond one page asks for nothing more.
        log.mark_reconnected();
        assert_eq!(
            log.merge_page(vec![msg("y"), msg("z")], Some("q".into()), false),
            None
        );
        assert_eq!(ids(&log).last().map(String::as_str), Some("z"));
    }

    #[test]
    fn a_late_message_goes_where_it_sorts_not_at_the_end() {
        let at = |id: &str, ms: i64| ChatMessage {
            id: id.into(),
            order_ms: ms,
            ..Default::default()
        };
        let mut log = ChannelLog::default();
        log.push_message(at("b", 2_000));
        log.push_message(at("d", 4_000));
        log.push_notice(NoticeKind::Info, "n");
        log.push_message(at("c", 3_000)); // a catch-up brings an older one
        log.push_message(at("a", 1_000));
        log.push_message(at("e", 5_000));
        assert_eq!(ids(&log), ["a", "b", "c", "d", "!n", "e"]);
    }
}
