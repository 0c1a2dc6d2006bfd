//! felundd as a relay client under attack. An outsider floods a circle's hint on the
//! reference aiohttp relay (which stores whatever it is sent) with megabyte objects while two
//! real members chat through it; and hostile relays, played by the test, answer pulls with an
//! endless body, a body announced as huge, or a page of junk mixed with real messages. In
//! every case felundd stays small and keeps serving, the real messages arrive, and each page
//! of junk costs one log line. The positive control — normal relay sync — is
//! `tests/relay_felundd.rs`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use felund_tests::chat::{self, Circle};
use felund_tests::hostile_relay::{HostileRelay, PullAnswer};
use felund_tests::reference::Reference;
use felund_tests::relays::{daemon_behind_relay, http_request, RelayKind, RelayProcess};
use felund_tests::{rss_kib, wait_until, Daemon, DEADLINE};
use felund_wire::limits::MAX_RELAY_OBJECT_BYTES;
use felund_wire::WireMessage;
use felundd::limits::MAX_RELAY_ANSWER_BYTES;

/// What felundd may use, flood or not.
const RSS_LIMIT_KIB: u64 = 100 * 1024;

/// An outsider's junk object: about 1 MB (just under the aiohttp relay's body limit), shaped
/// like an envelope but sealed by nobody.
const JUNK_BYTES: usize = 1_000_000;

/// Samples the resident memory of some daemons until dropped; keeps the highest.
struct RssWatch {
    stop: Arc<AtomicBool>,
    pids: Arc<Mutex<Vec<u32>>>,
    max_kib: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RssWatch {
    fn start(daemon: &Daemon) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let pids = Arc::new(Mutex::new(Vec::new()));
        let max_kib = Arc::new(AtomicU64::new(0));
        let (s, p, m) = (Arc::clone(&stop), Arc::clone(&pids), Arc::clone(&max_kib));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                for pid in p.lock().expect("pids").iter() {
                    m.fetch_max(rss_kib(*pid), Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let watch = Self {
            stop,
            pids,
            max_kib,
            thread: Some(thread),
        };
        watch.add(daemon);
        watch
    }

    fn add(&self, daemon: &Daemon) {
        let pid = daemon.pid().expect("a running daemon");
        self.pids.lock().expect("pids").push(pid);
    }

    fn max_kib(&self) -> u64 {
        self.max_kib.load(Ordering::SeqCst)
    }
}

impl Drop for RssWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The outsider: posts unsigned junk under the circle's hint — `backlog` objects back to
/// back, then one every `then_every` — until dropped.
struct Flood {
    stop: Arc<AtomicBool>,
    posted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Flood {
    fn start(relay_port: u16, circle_id: &str, backlog: usize, then_every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let posted = Arc::new(AtomicUsize::new(0));
        let hint = felund_wire::ids::circle_hint(circle_id);
        let circle_id = circle_id.to_string();
        let (s, p) = (Arc::clone(&stop), Arc::clone(&posted));
        let thread = std::thread::spawn(move || {
            let pad = "A".repeat(JUNK_BYTES);
            let mut i = 0usize;
            while !s.load(Ordering::SeqCst) {
                let body = format!(
                    r#"{{"circle_hint":"{hint}","messages":[{{"msg_id":"junk{i:012}","circle_id":"{circle_id}","channel_id":"general","author_node_id":"outsider0000","created_ts":1700000000,"enc":{{"alg":"AES-256-GCM","key_id":"epoch-0","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"{pad}"}}}}]}}"#
                );
                // A busy relay may time out; the outsider just tries again.
                let answer = http_request(relay_port, "POST", "/v1/messages", &[], Some(&body));
                if answer.is_none_or(|(status, _)| status != 200) {
                    continue;
                }
                i += 1;
                p.store(i, Ordering::SeqCst);
                if i >= backlog {
                    std::thread::sleep(then_every);
                }
            }
        });
        Self {
            stop,
            posted,
            thread: Some(thread),
        }
    }

    fn posted(&self) -> usize {
        self.posted.load(Ordering::SeqCst)
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn wait_for_text(d: &Daemon, circle: &str, text: &str) {
    let arrived = felund_tests::eventually(DEADLINE, || {
        chat::texts(d, circle, "general").iter().any(|t| t == text)
    });
    assert!(
        arrived,
        "'{text}' did not arrive within {DEADLINE:?}; log:\n{}",
        chat::log_tail(d, 40)
    );
}

#[test]
fn an_outsider_flooding_the_circle_hint_on_the_reference_relay_neither_stops_the_chat_nor_grows_felundd(
) {
    let Some(r) = Reference::from_env(
        "an_outsider_flooding_the_circle_hint_on_the_reference_relay_neither_stops_the_chat_nor_grows_felundd",
    ) else {
        return;
    };
    let relay = RelayProcess::start(RelayKind::AioHttp, Some(&r));
    let alice = daemon_behind_relay(&relay.url(), "alice");
    let circle = chat::create_circle(&alice, "flooded");
    let watch = RssWatch::start(&alice);

    // 500 objects of 1 MB: one full pull page would be 500 MB.
    let flood = Flood::start(relay.port, &circle.id, 500, Duration::from_secs(1));
    wait_until("the outsider's backlog of 500 objects", || {
        flood.posted() >= 500
    });
    // Bob joins now, so his first pull faces the whole backlog.
    let bob = daemon_behind_relay(&relay.url(), "bob");
    watch.add(&bob);
    bob.ctl_one(&["join", &circle.code]);
    // What was stored before Bob's first page is behind his cursor once he has read one
    // page: the reference relays cannot page (`since` is a server time), so a page smaller
    // than the backlog skips the rest, for any client. The members chat after that, with
    // the flood still going on.
    wait_until("bob's first successful relay cycle", || {
        bob.ctl_one(&["status"])["relay_last_success"]
            .as_i64()
            .is_some_and(|t| t > 0)
    });

    for i in 0..3 {
        chat::send(&alice, &circle.id, "general", &format!("alice {i}"));
        wait_for_text(&bob, &circle.id, &format!("alice {i}"));
        chat::send(&bob, &circle.id, "general", &format!("bob {i}"));
        wait_for_text(&alice, &circle.id, &format!("bob {i}"));
    }
    let posted = flood.posted();
    drop(flood);

    let max = watch.max_kib();
    eprintln!("flood: {posted} junk objects of {JUNK_BYTES} bytes; highest felundd RSS {max} KiB");
    assert!(
        max < RSS_LIMIT_KIB,
        "felundd grew to {max} KiB under the flood"
    );
    let log = bob.log();
    assert!(
        log.contains("asking for smaller pages"),
        "bob never met an oversized page, so the flood was not tested:\n{log}"
    );
    assert!(log.contains("skipped them"), "{log}");
}

/// The most a TCP connection's receive and send buffers can hold together on this machine
/// (`tcp_rmem` and `tcp_wmem` maxima), with 1 MiB of slack; 16 MiB if `/proc` does not say.
fn socket_buffer_maxima() -> usize {
    let max = |name: &str| -> Option<usize> {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
            .ok()?
            .split_whitespace()
            .nth(2)?
            .parse()
            .ok()
    };
    match (max("tcp_rmem"), max("tcp_wmem")) {
        (Some(r), Some(w)) => r + w + 1024 * 1024,
        _ => 16 * 1024 * 1024,
    }
}

#[test]
fn a_relay_answering_pulls_with_an_endless_body_is_cut_off_at_the_cap_and_felundd_keeps_serving() {
    let relay = HostileRelay::start(|_| PullAnswer::Endless);
    let d = daemon_behind_relay(&relay.url(), "alice");
    let watch = RssWatch::start(&d);
    let circle = chat::create_circle(&d, "attacked");

    // felundd asks for ever smaller pages, and when even one object is too much, the sync
    // fails with an error that says why.
    wait_until("the relay sync to fail on the endless answer", || {
        let s = d.ctl_one(&["status"]);
        s["relay_ok"] == false
            && s["relay_last_error"]
                .as_str()
                .is_some_and(|e| e.contains("cap"))
    });
    assert!(
        relay.pulls().iter().any(|q| q.contains("limit=1&")),
        "{:?}",
        relay.pulls()
    );
    // Each endless answer was abandoned at the cap, plus what the two sockets' kernel buffers
    // took in before felundd hung up (loopback autotuning lets them grow to the sysctl
    // maxima; felundd's own memory is watched separately, below).
    wait_until("an endless answer to end", || {
        !relay.endless_bytes().is_empty()
    });
    let buffered = socket_buffer_maxima();
    for written in relay.endless_bytes() {
        assert!(
            written < MAX_RELAY_ANSWER_BYTES + buffered,
            "felundd read {written} bytes of one answer (cap {MAX_RELAY_ANSWER_BYTES}, kernel buffers up to {buffered})"
        );
    }

    chat::send(&d, &circle.id, "general", "still serving");
    assert!(chat::texts(&d, &circle.id, "general").contains(&"still serving".to_string()));
    let max = watch.max_kib();
    assert!(max < RSS_LIMIT_KIB, "felundd grew to {max} KiB");
    assert!(d.log().contains("asking for smaller pages"), "{}", d.log());
}

#[test]
fn a_relay_announcing_a_huge_answer_is_refused_before_any_of_it_is_read() {
    let relay = HostileRelay::start(|_| PullAnswer::Announced(10_000_000_000));
    let d = daemon_behind_relay(&relay.url(), "alice");
    let circle = chat::create_circle(&d, "attacked");
    wait_until("the relay sync to refuse the announced size", || {
        d.ctl_one(&["status"])["relay_last_error"]
            .as_str()
            .is_some_and(|e| e.contains("announced 10000000000 bytes"))
    });
    chat::send(&d, &circle.id, "general", "still serving");
    assert!(chat::texts(&d, &circle.id, "general").contains(&"still serving".to_string()));
}

/// A relay envelope of a real member's message in `circle`.
fn real_envelope(circle: &Circle, i: u8) -> String {
    let msg = WireMessage::new_authored(
        &circle.secret,
        format!("{:032x}", u128::from(i) + 1),
        circle.id.clone(),
        "general".into(),
        "carol00000000000000000001".into(),
        "carol".into(),
        // Recent: chat older than the daemon's retention is never stored.
        felund_tests::fake_peer::now_ts() - 60 + i64::from(i),
        format!("real {i}"),
        [i; 12],
    );
    msg.seal_relay_envelope(&circle.secret, [i.wrapping_add(100); 12])
        .to_value()
        .to_string()
}

/// An object larger than any real message, of exactly `len` bytes.
fn junk_object(len: usize) -> String {
    let frame = r#"{"msg_id":"junk00000001","pad":""}"#;
    format!(
        r#"{{"msg_id":"junk00000001","pad":"{}"}}"#,
        "x".repeat(len - frame.len())
    )
}

/// The `after_seq` of a pull's query (a first pull has none: 0).
fn after_seq(query: &str) -> i64 {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("after_seq="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn oversized_objects_mixed_with_valid_ones_are_skipped_with_one_log_line_and_the_valid_ones_stored()
{
    // Until the page is ready the relay is empty; then the page (cursor 6) is served to any
    // pull before it, and an empty page to pulls after it.
    let page: Arc<Mutex<Option<String>>> = Arc::default();
    let served = Arc::clone(&page);
    let relay = HostileRelay::start(move |query| {
        let answer = match served.lock().expect("page").clone() {
            Some(page) if after_seq(query) < 6 => page,
            Some(_) => {
                r#"{"ok":true,"messages":[],"server_time":1,"cursor":6,"more":false}"#.into()
            }
            None => r#"{"ok":true,"messages":[],"server_time":1,"cursor":0,"more":false}"#.into(),
        };
        PullAnswer::Json(answer)
    });
    let d = daemon_behind_relay(&relay.url(), "alice");
    let watch = RssWatch::start(&d);
    let circle = chat::create_circle(&d, "mixed");

    let junk = [
        junk_object(2_000_000),
        junk_object(MAX_RELAY_OBJECT_BYTES + 1),
        junk_object(3_000_000),
    ];
    let objects = [
        real_envelope(&circle, 0),
        junk[0].clone(),
        real_envelope(&circle, 1),
        junk[1].clone(),
        junk[2].clone(),
        real_envelope(&circle, 2),
    ];
    *page.lock().expect("page") = Some(format!(
        r#"{{"ok":true,"messages":[{}],"server_time":1,"cursor":6,"more":false}}"#,
        objects.join(",")
    ));

    for i in 0..3 {
        wait_for_text(&d, &circle.id, &format!("real {i}"));
    }
    // The cursor moved past the junk: later pulls ask for what comes after it.
    wait_until("a pull after the junk page", || {
        relay.pulls().iter().any(|q| after_seq(q) == 6)
    });
    let log = d.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("larger than any real message"))
        .collect();
    assert_eq!(lines.len(), 1, "one line per page: {lines:#?}");
    let total: usize = junk.iter().map(String::len).sum();
    assert!(lines[0].contains("skipped=3"), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!("skipped_bytes={total}")),
        "{}",
        lines[0]
    );
    assert_eq!(chat::message_count(&d, &circle.id), 3);
    assert!(watch.max_kib() < RSS_LIMIT_KIB);
}
