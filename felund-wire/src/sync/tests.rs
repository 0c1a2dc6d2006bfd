//! The sync machines against each other, as two honest nodes run them, and against what an
//! attacker can send them.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::anchor::{AwaitingPush, AwaitingPushAck};
use super::budget::json_budget;
use super::digest::{ExtOpened, IdsRun, ReqRun, Transfer};
use super::link::{AwaitingOffer, LinkOffered};
use super::peers::peers_frame;
use super::reference::{RefDone, RefOpened};
use super::runs::Chunk;
use super::*;
use crate::ext::{MAX_EXT_LINE, MAX_IDS_PER_FRAME, MAX_PUSH_MESSAGES, MAX_WANTED_IDS};
use crate::frame::encode_frame;
use crate::limits::{MAX_ENCRYPTED_LINE, MAX_PEERS_PER_FRAME, REFERENCE_MAX_REQ_IDS_ENCRYPTED};
use crate::session::sealed_line_len;

/// A node's messages: ids newest first, and each message object with its encoded length.
#[derive(Default)]
struct Store {
    newest_first: Vec<String>,
    msgs: HashMap<String, (Value, usize)>,
}

impl Store {
    fn with(prefix: &str, n: usize) -> Self {
        let mut s = Self::default();
        for i in 0..n {
            s.add(json!({"msg_id": format!("{prefix}{i:06}"), "text": "some chat text"}));
        }
        s
    }

    fn add(&mut self, v: Value) {
        let id = v["msg_id"].as_str().expect("msg_id").to_string();
        if !self.msgs.contains_key(&id) {
            self.newest_first.insert(0, id.clone());
            let len = v.to_string().len();
            self.msgs.insert(id, (v, len));
        }
    }

    fn ids(&self) -> Vec<String> {
        self.newest_first.clone()
    }

    /// What a driver reads to answer a request: the messages held, in the order asked.
    fn get<'a>(&'a self, ids: &'a [String]) -> impl Iterator<Item = (Value, usize)> + 'a {
        ids.iter().filter_map(|id| self.msgs.get(id).cloned())
    }

    fn has_all_of(&self, other: &Store) -> bool {
        other.msgs.keys().all(|id| self.msgs.contains_key(id))
    }
}

fn start(me: &str, peer: &str, max_line: usize) -> SyncStart {
    SyncStart {
        circle_id: "circle".into(),
        local_node_id: me.into(),
        peer_node_id: peer.into(),
        json_budget: json_budget(max_line),
        peers: vec![],
    }
}

/// Feeds `frames` to a state that reads a run, until the run is complete.
fn feed<S, N>(
    mut state: S,
    frames: impl IntoIterator<Item = Frame>,
    step: fn(S, Frame) -> Result<Step<S, N>, SyncError>,
) -> N {
    let mut frames = frames.into_iter();
    loop {
        let frame = frames
            .next()
            .expect("the run ended before the step was complete");
        match step(state, frame).expect("an honest frame") {
            Step::More(s) => state = s,
            Step::Done(next) => return next,
        }
    }
}

/// Every message of the peer's X_SEND run.
fn receive_all(mut run: runs::ReceiveRun, frames: Vec<Frame>) -> Vec<Value> {
    let mut got = Vec::new();
    for frame in frames {
        let Chunk { messages, next } = run.on_frame(frame).expect("an honest chunk");
        got.extend(messages);
        match next {
            Step::More(r) => run = r,
            Step::Done(()) => return got,
        }
    }
    panic!("the X_SEND run did not end")
}

/// Our X_SEND run for what the peer wants.
fn send_all(t: &mut Transfer, store: &Store) -> Vec<Frame> {
    let mut send = std::mem::take(&mut t.send);
    let mut frames: Vec<Frame> = store
        .get(&t.wanted)
        .filter_map(|(v, len)| send.push(v, len))
        .collect();
    frames.push(send.finish());
    frames
}

/// One digest session between two felundd nodes; true when they were already in sync.
fn ext_session(a: &mut Store, b: &mut Store) -> bool {
    let (sa, fa) = ExtSync::start(start("a", "b", MAX_EXT_LINE), a.ids());
    let (sb, fb) = ExtSync::start(start("b", "a", MAX_EXT_LINE), b.ids());
    let oa: ExtOpened = feed(sa, fb, ExtSync::on_frame);
    let ob: ExtOpened = feed(sb, fa, ExtSync::on_frame);
    let ((wa, ba), (wb, bb)) = match (oa.next, ob.next) {
        (None, None) => return true,
        (Some(a), Some(b)) => (a, b),
        _ => panic!("the two sides disagree about being in sync"),
    };
    let (ia, xa) = wa.on_frame(bb).expect("buckets");
    let (ib, xb) = wb.on_frame(ba).expect("buckets");
    assert!(xa.len() <= a.msgs.len() / MAX_IDS_PER_FRAME + 1);
    let (ra, qa): (ReqRun, _) = feed(ia, xb, IdsRun::on_frame);
    let (rb, qb): (ReqRun, _) = feed(ib, xa, IdsRun::on_frame);
    let mut ta = feed(ra, qb, ReqRun::on_frame);
    let mut tb = feed(rb, qa, ReqRun::on_frame);
    let (from_a, from_b) = (send_all(&mut ta, a), send_all(&mut tb, b));
    for v in receive_all(tb.receive, from_a) {
        b.add(v);
    }
    for v in receive_all(ta.receive, from_b) {
        a.add(v);
    }
    false
}

#[test]
fn two_felundd_nodes_exchange_what_each_lacks_in_one_session_then_are_in_sync() {
    // More ids than one X_IDS chunk holds, more messages than one X_SEND chunk carries.
    let mut a = Store::with("a", 2 * MAX_IDS_PER_FRAME + 5);
    let mut b = Store::with("b", 10);
    for i in 0..5 {
        let common = json!({"msg_id": format!("common{i}"), "text": "both"});
        a.add(common.clone());
        b.add(common);
    }
    assert!(!ext_session(&mut a, &mut b));
    assert!(a.has_all_of(&b) && b.has_all_of(&a));
    assert_eq!(a.msgs.len(), 2 * MAX_IDS_PER_FRAME + 20);
    assert!(ext_session(&mut a, &mut b), "in sync after one session");
}

/// The peer's opening and X_BUCKETS with an honest digest of `count` ids it claims.
fn ids_run(ours: Vec<String>, their_count: u64) -> IdsRun {
    let (s, _) = ExtSync::start(start("a", "b", MAX_EXT_LINE), ours);
    let peers = Frame::Peers {
        circle_id: "circle".into(),
        peers: vec![],
    };
    let digest = Frame::XDigest {
        count: their_count,
        digest: "differs".into(),
    };
    let opened = feed(s, [peers, digest], ExtSync::on_frame);
    let (awaiting, _) = opened.next.expect("digests differ");
    let (run, _) = awaiting
        .on_frame(Frame::XBuckets { buckets: vec![] })
        .expect("buckets");
    run
}

#[test]
fn a_peer_listing_more_ids_than_its_digest_counts_is_cut_off() {
    let run = ids_run(vec![], 2);
    let ids = |n: usize| (0..n).map(|i| format!("x{i}")).collect::<Vec<_>>();
    let Ok(Step::More(run)) = run.on_frame(Frame::XIds {
        ids: ids(2),
        more: true,
    }) else {
        panic!("two of two ids")
    };
    let err = run
        .on_frame(Frame::XIds {
            ids: ids(1),
            more: false,
        })
        .expect_err("a third id");
    assert_eq!(err, SyncError::TooMuch("more ids than its digest counts"));
    assert_eq!(err.reply(), Some("Bad sync frames"));
    let endless = ids_run(vec![], u64::MAX).on_frame(Frame::XIds {
        ids: vec![],
        more: true,
    });
    assert!(matches!(endless, Err(SyncError::TooMuch(_))));
}

#[test]
fn wanted_ids_are_capped_and_the_ids_we_hold_are_never_wanted() {
    let mut run = ids_run(vec!["held".into()], u64::MAX);
    let mut sent = 0;
    let (req, frames) = loop {
        let mut ids: Vec<String> = (sent..sent + MAX_IDS_PER_FRAME)
            .map(|i| format!("{i}"))
            .collect();
        ids[0] = "held".into();
        sent += MAX_IDS_PER_FRAME;
        let more = sent < MAX_WANTED_IDS + 3 * MAX_IDS_PER_FRAME;
        match run.on_frame(Frame::XIds { ids, more }).expect("chunk") {
            Step::More(r) => run = r,
            Step::Done(done) => break done,
        }
    };
    let asked: Vec<String> = frames
        .into_iter()
        .flat_map(|f| match f {
            Frame::XReq { ids, .. } => ids,
            other => panic!("not X_REQ: {other:?}"),
        })
        .collect();
    assert_eq!(asked.len(), MAX_WANTED_IDS);
    assert!(!asked.iter().any(|id| id == "held"));
    // The peer may send at most what we asked for.
    let t = feed(
        req,
        [Frame::XReq {
            ids: vec![],
            more: false,
        }],
        ReqRun::on_frame,
    );
    assert!(t.wanted.is_empty());
}

#[test]
fn a_peer_requesting_more_ids_than_were_offered_is_cut_off() {
    // We offer our two ids (every bucket differs); the peer lists none and asks for three.
    let run = ids_run(vec!["a1".into(), "a2".into()], 0);
    let last = Frame::XIds {
        ids: vec![],
        more: false,
    };
    let Ok(Step::Done((req, _))) = run.on_frame(last) else {
        panic!("an empty last chunk ends the run")
    };
    let err = req.on_frame(Frame::XReq {
        ids: vec!["a1".into(), "a2".into(), "a3".into()],
        more: false,
    });
    assert_eq!(
        err.err(),
        Some(SyncError::TooMuch(
            "requests for more ids than were offered"
        ))
    );
}

/// One reference session: `a` runs felundd's budgets (a 32 KiB line, 50 ids), `b` plays a
/// reference node (no budgets). Returns every frame `a` wrote.
fn ref_session(a: &mut Store, b: &mut Store) -> Vec<Frame> {
    let budget = json_budget(MAX_ENCRYPTED_LINE);
    let (sa, fa) = RefSync::start(
        start("a", "b", MAX_ENCRYPTED_LINE),
        REFERENCE_MAX_REQ_IDS_ENCRYPTED,
        a.ids(),
        |_| false,
    );
    let mut unbounded = start("b", "a", MAX_ENCRYPTED_LINE);
    unbounded.json_budget = usize::MAX;
    let (sb, fb) = RefSync::start(unbounded, usize::MAX, b.ids(), |_| false);
    let mut written: Vec<Frame> = fa.to_vec();
    let oa: RefOpened = feed(sa, fb, RefSync::on_frame);
    let ob: RefOpened = feed(sb, fa, RefSync::on_frame);
    written.push(oa.request.clone());
    let (ans_a, wanted_a) = oa.next.on_frame(ob.request).expect("MSGS_REQ");
    let (ans_b, wanted_b) = ob.next.on_frame(oa.request).expect("MSGS_REQ");
    let (wait_a, send_a) = ans_a.answer(a.get(&wanted_a));
    let (wait_b, send_b) = ans_b.answer(b.get(&wanted_b));
    written.push(send_a.clone());
    let done_a: RefDone = wait_a.on_frame(send_b).expect("MSGS_SEND");
    let done_b: RefDone = wait_b.on_frame(send_a).expect("MSGS_SEND");
    done_a.messages.into_iter().for_each(|v| a.add(v));
    done_b.messages.into_iter().for_each(|v| b.add(v));
    for f in &written {
        assert!(encode_frame(f).len() <= budget + 200, "{}", f.type_name());
        assert!(sealed_line_len(encode_frame(f).len()) <= MAX_ENCRYPTED_LINE);
        if let Frame::MsgsReq { msg_ids, .. } = f {
            assert!(msg_ids.len() <= REFERENCE_MAX_REQ_IDS_ENCRYPTED);
        }
    }
    written
}

#[test]
fn reference_newcomers_converge_over_sessions_within_the_reference_line_limits() {
    // felundd holding 600 messages, a reference newcomer with none; then the other way.
    let (mut host, mut newcomer) = (Store::with("h", 600), Store::default());
    let mut sessions = 0;
    while !newcomer.has_all_of(&host) {
        sessions += 1;
        assert!(sessions < 50, "no convergence");
        ref_session(&mut host, &mut newcomer);
    }
    assert!(sessions > 1, "600 messages cannot fit one reference line");
    let (mut felundd, mut reference) = (Store::default(), Store::with("r", 200));
    let mut sessions = 0;
    while !felundd.has_all_of(&reference) {
        sessions += 1;
        assert!(sessions < 50, "no convergence");
        ref_session(&mut felundd, &mut reference);
    }
    assert_eq!(sessions, 200 / REFERENCE_MAX_REQ_IDS_ENCRYPTED);
}

#[test]
fn the_peer_s_holdings_are_remembered_only_among_ours_and_what_we_asked_for() {
    let (s, _) = RefSync::start(
        start("a", "b", MAX_ENCRYPTED_LINE),
        REFERENCE_MAX_REQ_IDS_ENCRYPTED,
        vec!["mine".into()],
        |_| false,
    );
    let listed: Vec<String> = (0..1_000)
        .map(|i| format!("{i:04}"))
        .chain(["mine".to_string()])
        .collect();
    let opened = feed(
        s,
        [
            Frame::Peers {
                circle_id: String::new(),
                peers: vec![],
            },
            Frame::MsgsHave {
                circle_id: String::new(),
                msg_ids: listed,
            },
        ],
        RefSync::on_frame,
    );
    let (answering, _) = opened
        .next
        .on_frame(Frame::MsgsReq {
            circle_id: String::new(),
            msg_ids: vec![],
        })
        .expect("MSGS_REQ");
    let (waiting, _) = answering.answer([]);
    let done = waiting
        .on_frame(Frame::MsgsSend {
            circle_id: String::new(),
            messages: vec![],
        })
        .expect("MSGS_SEND");
    assert_eq!(done.peer_holds.len(), 1 + REFERENCE_MAX_REQ_IDS_ENCRYPTED);
    assert!(done.peer_holds.contains(&"mine".to_string()));
}

#[test]
fn frames_out_of_order_end_the_reference_sequence_with_the_reference_s_words() {
    let fresh = || RefSync::start(start("a", "b", MAX_ENCRYPTED_LINE), 50, vec![], |_| false).0;
    let peers = || Frame::Peers {
        circle_id: String::new(),
        peers: vec![],
    };
    let have = || Frame::MsgsHave {
        circle_id: String::new(),
        msg_ids: vec![],
    };
    let req = || Frame::MsgsReq {
        circle_id: String::new(),
        msg_ids: vec![],
    };
    let err = fresh().on_frame(have()).expect_err("MSGS_HAVE first");
    assert_eq!(err.reply(), Some("Bad sync frames"));
    let opened = feed(fresh(), [peers(), have()], RefSync::on_frame);
    let err = opened.next.on_frame(have()).expect_err("not MSGS_REQ");
    assert_eq!(err.reply(), Some("Expected MSGS_REQ"));
    let opened = feed(fresh(), [peers(), have()], RefSync::on_frame);
    let (answering, _) = opened.next.on_frame(req()).expect("MSGS_REQ");
    let (waiting, _) = answering.answer([]);
    let err = waiting.on_frame(peers()).expect_err("not MSGS_SEND");
    assert_eq!(err.reply(), Some("Expected MSGS_SEND"));
    let refused = fresh()
        .on_frame(Frame::Error {
            err: "Internal error".into(),
        })
        .expect_err("ERROR");
    assert_eq!(refused, SyncError::Refused("Internal error".into()));
    assert_eq!(refused.reply(), None, "an ERROR is not answered");
}

#[test]
fn peers_frames_never_list_the_recipient_or_ourselves_and_hold_at_most_twenty() {
    let entry = |id: &str| crate::frame::PeerEntry {
        node_id: id.into(),
        addr: "127.0.0.1:9".into(),
        last_seen: 1,
    };
    let mut s = start("me", "you", MAX_ENCRYPTED_LINE);
    s.peers = ["you", "me"]
        .iter()
        .map(|id| entry(id))
        .chain((0..30).map(|i| entry(&format!("p{i}"))))
        .collect();
    let Frame::Peers { peers, .. } = peers_frame(&s) else {
        panic!("PEERS")
    };
    assert_eq!(peers.len(), MAX_PEERS_PER_FRAME);
    assert!(!peers
        .iter()
        .any(|p| p.node_id == "me" || p.node_id == "you"));
    s.json_budget = 200;
    let Frame::Peers { peers, .. } = peers_frame(&s) else {
        panic!("PEERS")
    };
    assert_eq!(peers.len(), 1, "only what fits the budget");

    let flood = Frame::Peers {
        circle_id: String::new(),
        peers: (0..500).map(|i| entry(&format!("n{i}"))).collect(),
    };
    let (ext, _) = ExtSync::start(start("a", "b", MAX_EXT_LINE), vec![]);
    let opened = feed(
        ext,
        [
            flood,
            Frame::XDigest {
                count: 0,
                digest: crate::ext::SetDigest::default().digest_hex(),
            },
        ],
        ExtSync::on_frame,
    );
    assert_eq!(opened.named_peers.len(), MAX_PEERS_PER_FRAME);
    assert!(opened.next.is_none(), "both empty: in sync");
}

#[test]
fn a_link_starts_only_on_its_own_frames_and_takes_only_pushes_and_pings() {
    let (offered, x_link) = LinkOffered::offer();
    let (link, ok) = AwaitingOffer::new().on_frame(x_link).expect("X_LINK");
    assert!(offered.on_frame(ok).is_some());
    assert!(LinkOffered::offer().0.on_frame(Frame::XPing {}).is_none());
    assert!(AwaitingOffer::new().on_frame(Frame::XPing {}).is_none());

    let msgs = |n: usize| (0..n).map(Value::from).collect::<Vec<_>>();
    let frames = link.push(msgs(MAX_PUSH_MESSAGES * 2 + 1));
    assert_eq!(frames.len(), 3);
    assert!(link.push(vec![]).is_empty());
    for f in frames {
        assert!(link.on_frame(f).expect("a push").is_some());
    }
    assert_eq!(link.on_frame(link.ping()), Ok(None));
    let flood = Frame::XPush {
        messages: msgs(MAX_PUSH_MESSAGES + 1),
    };
    assert!(matches!(link.on_frame(flood), Err(SyncError::TooMuch(_))));
    assert!(matches!(
        link.on_frame(Frame::XLink {}),
        Err(SyncError::Unexpected { .. })
    ));
}

#[test]
fn the_anchor_exchange_runs_in_both_roles_and_fits_the_line() {
    let budget = json_budget(MAX_ENCRYPTED_LINE);
    let big = |i: usize| (json!({"msg_id": i, "enc": "x".repeat(10_000)}), 10_020);
    let (awaiting_ack, push) = AwaitingPushAck::push("circle", budget, (0..5).map(big));
    let (taken, envelopes) = AwaitingPush::new(budget).on_frame(push).expect("push");
    assert_eq!(envelopes.len(), 2, "two 10 KB envelopes fit a 24 KB budget");
    let (awaiting_pull, ack) = taken.ack(envelopes.len());
    let (awaiting_msgs, pull) = awaiting_ack.on_frame(ack).expect("ack").pull(42);
    let (answering, since) = awaiting_pull.on_frame(pull).expect("pull");
    assert_eq!(since, 42);
    let answer = answering.answer((0..3).map(big), 1_000);
    let pulled = awaiting_msgs.on_frame(answer).expect("ANCHOR_MSGS");
    assert_eq!((pulled.envelopes.len(), pulled.server_time), (2, 1_000));

    // Anything else ends the exchange quietly, in both roles.
    assert!(AwaitingPush::new(budget)
        .on_frame(Frame::XPing {})
        .is_none());
    let (awaiting_ack, _) = AwaitingPushAck::push("circle", budget, []);
    assert!(awaiting_ack
        .on_frame(Frame::Error { err: "no".into() })
        .is_none());
}
