//! Attackers of felundd's WebRTC DataChannel transport, each next to a positive control: more
//! browsers offering than the session caps allow (registered browsers that only signal and
//! never go on to ICE), a relay rate-limiting `/v1/signal` (a scripted proxy in front of
//! felund-relay answering 429), and poll answers beyond what felundd reads (a flood of
//! signals whose JSON is larger than the poll cap, stored at a real relay; a proxy answering
//! more than a page, or without end). felundd, the relay and the honest browser (aiortc) are
//! real; the tests need `FELUND_WEBRTC_PYTHON` and are skipped with a line otherwise.

use std::time::{Duration, Instant};

use felund_tests::browser_peer::{BrowserOptions, BrowserPeer, LOW_ID};
use felund_tests::chat::{create_circle, log_tail, node_id, send, texts, Circle};
use felund_tests::relays::{daemon_behind_relay, RelayProcess};
use felund_tests::signal_only::{low_ids, post_signal, SignalOnlyBrowsers};
use felund_tests::signal_proxy::{SignalAnswer, SignalProxy};
use felund_tests::{eventually, wait_for, wait_until, Daemon, DEADLINE};
use felund_wire::limits::MAX_SIGNAL_PAYLOAD_CHARS;
use felund_wire::relay_api::limits::SIGNAL_POLL_LIMIT;
use felundd::limits::{DC_MAX_SESSIONS, DC_MAX_SESSIONS_PER_CIRCLE, DC_MAX_SIGNAL_ANSWER_BYTES};

/// An honest browser (it offers: its id is the smallest) in circle `c` at `relay`.
fn honest_browser(py: &std::path::Path, relay: &str, c: &Circle) -> BrowserPeer {
    BrowserPeer::start(
        py,
        relay,
        &[&c.secret],
        BrowserOptions {
            node_id: Some(LOW_ID.into()),
            name: Some("web".into()),
            ..BrowserOptions::default()
        },
    )
}

/// Waits until browser `b` holds a verified channel with `d` itself (bob, in the same circle,
/// would answer it too) and got `text` in circle 0.
fn browser_reaches(b: &BrowserPeer, d: &Daemon, text: &str) {
    let own = node_id(d);
    b.wait_event("a verified channel with alice", |e| {
        e["event"] == "open" && e["peer"] == own.as_str()
    });
    b.wait_text(0, text);
}

/// DataChannel sessions felundd has counted as failed (ended before a verified AUTH).
fn failed(d: &Daemon) -> u64 {
    d.ctl_one(&["status"])["datachannel_failed"]
        .as_u64()
        .unwrap_or(0)
}

/// A message each way between `a` and `b` through the relay, in circle `c`.
fn relay_chat_flows(a: &Daemon, b: &Daemon, c: &Circle, tag: &str) {
    for (from, to, who) in [(a, b, "alice"), (b, a, "bob")] {
        let text = format!("{tag}: from {who}");
        send(from, &c.id, "general", &text);
        wait_until(&format!("'{text}' through the relay"), || {
            texts(to, &c.id, "general").contains(&text)
        });
    }
}

/// Bob: a second felundd at `relay` in circle `c`, the honest relay chat.
fn bob(relay: &str, c: &Circle) -> Daemon {
    let b = daemon_behind_relay(relay, "bob");
    b.ctl_one(&["join", &c.code]);
    b
}

/// A browser registers and offers at once. When its offer comes right after felundd asked the
/// relay for its browsers (too soon to ask again), felundd holds it and answers it once it may
/// ask again, instead of ignoring it for good; an offer from a node registered nowhere is still
/// never answered.
#[test]
fn an_offer_right_after_a_browser_discovery_is_answered_once_felundd_may_ask_again() {
    let relay = RelayProcess::start_felund(&[]);
    let proxy = SignalProxy::start(relay.port);
    let alice = daemon_behind_relay(&proxy.url(), "alice");
    let circle = create_circle(&alice, "fresh");
    let own = node_id(&alice);
    // Right after a /peers request (a discovery, or relay sync's own peer list).
    let before = proxy.forwarded_to("/peers");
    wait_until("felundd to ask the relay for its peers", || {
        proxy.forwarded_to("/peers") > before
    });
    let newcomer = SignalOnlyBrowsers::register(relay.port, &circle.secret, low_ids(0x300, 1));
    newcomer.offer_to(&own);
    let stranger = SignalOnlyBrowsers::unregistered(relay.port, &circle.secret, low_ids(0x400, 1));
    stranger.offer_to(&own);
    wait_until("felundd to answer the newcomer's offer", || {
        newcomer.answered_by(&own) == 1
    });
    // Several more discoveries later, the stranger is still unanswered.
    let seen = proxy.forwarded_to("/peers");
    wait_until("two more peer requests", || {
        proxy.forwarded_to("/peers") >= seen + 2
    });
    assert_eq!(stranger.answered_by(&own), 0, "{}", log_tail(&alice, 40));
}

#[test]
fn offers_beyond_a_circles_session_cap_get_no_session_and_timed_out_attempts_give_slots_back() {
    let name =
        "offers_beyond_a_circles_session_cap_get_no_session_and_timed_out_attempts_give_slots_back";
    let Some(py) = BrowserPeer::python(name) else {
        return;
    };
    // The relay's own per-address signal limit would stop the flood first; it is not what is
    // tested here.
    let relay = RelayProcess::start_felund(&["--signal-posts-per-address", "0"]);
    let alice = daemon_behind_relay(&relay.url(), "alice");
    let circles: Vec<Circle> = ["busy", "quiet"]
        .iter()
        .map(|n| create_circle(&alice, n))
        .collect();
    let bob = bob(&relay.url(), &circles[0]);
    send(&alice, &circles[0].id, "general", "for members only");
    let own = node_id(&alice);
    // More than a circle's cap in the busy circle, a few in the quiet one: registered
    // browsers (they hold the circle's key) that only offer. felund-relay lets a node post
    // 20 signals per 10 s, so felundd's answers stay within that here (the total cap,
    // DC_MAX_SESSIONS, is reached only with several relays or over time).
    let per = DC_MAX_SESSIONS_PER_CIRCLE;
    let offered = [per + 4, 3];
    let expected = [per, 3];
    assert!(expected.iter().sum::<usize>() <= DC_MAX_SESSIONS.min(20));
    let flood: Vec<SignalOnlyBrowsers> = offered
        .iter()
        .zip(&circles)
        .enumerate()
        .map(|(i, (n, c))| {
            let ids = low_ids(0x100 * (i as u32 + 1), *n as u32);
            SignalOnlyBrowsers::register(relay.port, &c.secret, ids)
        })
        .collect();
    for f in &flood {
        f.offer_to(&own);
    }
    let answered = || -> Vec<usize> { flood.iter().map(|f| f.answered_by(&own)).collect() };
    let total: usize = expected.iter().sum();
    let reached = eventually(DEADLINE, || answered().iter().sum::<usize>() >= total);
    assert!(
        reached,
        "felundd answered {:?} of {offered:?} offers, not {expected:?}\n{}",
        answered(),
        log_tail(&alice, 60)
    );
    // At its cap felundd keeps serving: its API answers and the relay chat flows.
    assert!(alice.ctl(&["status"]).status.success());
    relay_chat_flows(&alice, &bob, &circles[0], "at the session cap");
    // Nobody completes ICE: each attempt ends at the handshake deadline and is counted.
    wait_until("the half-open sessions to time out", || {
        failed(&alice) >= total as u64
    });
    assert_eq!(
        answered(),
        expected,
        "answers per circle (offered {offered:?}): at most {per} a circle, the quiet circle \
         unaffected, and no offer beyond the cap answered later\n{}",
        log_tail(&alice, 60)
    );
    // Positive control: the slots came back, and an honest browser gets a session.
    let b = honest_browser(&py, &relay.url(), &circles[0]);
    browser_reaches(&b, &alice, "for members only");
}

/// felundd behind a proxy that answers 429 to `/v1/signal` (with `retry_after`, or none):
/// it asks no more than once per wait, logs the limit once, and resumes when it lifts.
fn rate_limited_signalling(name: &str, retry_after: Option<u64>) {
    let Some(py) = BrowserPeer::python(name) else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let proxy = SignalProxy::start(relay.port);
    let alice = daemon_behind_relay(&proxy.url(), "alice");
    let c = create_circle(&alice, "limited");
    send(&alice, &c.id, "general", "after the limit");
    wait_until("felundd to poll for signals", || {
        proxy.requests().iter().any(|r| r.method == "GET")
    });
    proxy.set(SignalAnswer::RateLimited(retry_after));
    let first = wait_for("felundd to meet the rate limit", || {
        proxy
            .requests()
            .iter()
            .find(|r| r.status == 429)
            .map(|r| r.at)
            .ok_or("no 429 yet")
    });
    // Watch a window several waits long (felundd's own wait is 10 s when the relay names
    // none): before, felundd polled every second whatever the relay said. Being slower
    // (a loaded machine) only means fewer requests.
    let wait = retry_after.unwrap_or(10);
    let window = Duration::from_secs(20);
    std::thread::sleep((first + window).saturating_duration_since(Instant::now()));
    let during: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.at >= first && r.at <= first + window)
        .collect();
    let allowed = (window.as_secs() / wait) as usize + 2;
    assert!(
        during.len() <= allowed,
        "{} signal requests in {window:?} of 429s with a {wait} s wait (at most {allowed})",
        during.len()
    );
    assert!(during.iter().filter(|r| r.status == 429).count() >= 2);
    assert_eq!(
        alice.log().matches("the relay rate-limits signals").count(),
        1,
        "the rate limit is logged once, not per request\n{}",
        log_tail(&alice, 40)
    );
    // The relay accepts again: felundd resumes, and an honest browser connects.
    proxy.set(SignalAnswer::Forward);
    let b = honest_browser(&py, &relay.url(), &c);
    browser_reaches(&b, &alice, "after the limit");
    assert_eq!(
        alice
            .log()
            .matches("the relay accepts signals again")
            .count(),
        1
    );
}

#[test]
fn signalling_rate_limited_with_retry_after_waits_as_told_logs_once_and_resumes() {
    rate_limited_signalling(
        "signalling_rate_limited_with_retry_after_waits_as_told_logs_once_and_resumes",
        Some(4),
    );
}

#[test]
fn signalling_rate_limited_without_retry_after_backs_off_logs_once_and_resumes() {
    rate_limited_signalling(
        "signalling_rate_limited_without_retry_after_backs_off_logs_once_and_resumes",
        None,
    );
}

#[test]
fn a_flood_of_signals_larger_than_the_poll_cap_does_not_stop_signalling_or_the_relay_chat() {
    let name =
        "a_flood_of_signals_larger_than_the_poll_cap_does_not_stop_signalling_or_the_relay_chat";
    let Some(py) = BrowserPeer::python(name) else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let alice = daemon_behind_relay(&relay.url(), "alice");
    let c = create_circle(&alice, "flooded");
    let bob = bob(&relay.url(), &c);
    send(&alice, &c.id, "general", "for members only");
    let own = node_id(&alice);
    // Strangers (signals are unsigned) post the largest payloads of control characters,
    // which JSON writes as six bytes each: the relay's page of them is larger than felundd
    // reads, and it stays so for the signals' two minutes.
    let payload = "\u{1}".repeat(MAX_SIGNAL_PAYLOAD_CHARS);
    let strangers = low_ids(0x900, 2);
    for i in 0..20 {
        let from = &strangers[i % 2];
        let status = post_signal(
            relay.port,
            from,
            &own,
            "0123456789abcdef",
            "offer",
            &payload,
        );
        assert_eq!(status, 200, "flood signal {i}");
    }
    let page = felund_tests::relays::http_get(
        relay.port,
        &format!("/v1/signal?to_node_id={own}&since_id=0"),
    )
    .expect("the relay answers");
    assert!(
        page.1.len() > DC_MAX_SIGNAL_ANSWER_BYTES,
        "the flood makes a poll answer of {} bytes, over felundd's {DC_MAX_SIGNAL_ANSWER_BYTES}",
        page.1.len()
    );
    // felundd keeps serving, and the circle's relay sync is untouched.
    relay_chat_flows(&alice, &bob, &c, "during the flood");
    // Positive control: a browser's offer, stored after the flood, is still found.
    let b = honest_browser(&py, &relay.url(), &c);
    browser_reaches(&b, &alice, "for members only");
    assert_eq!(failed(&alice), 0, "no session for the strangers' junk");
}

#[test]
fn poll_answers_over_a_page_or_without_end_leave_felundd_serving_and_signalling_after() {
    let name = "poll_answers_over_a_page_or_without_end_leave_felundd_serving_and_signalling_after";
    let Some(py) = BrowserPeer::python(name) else {
        return;
    };
    let relay = RelayProcess::start_felund(&[]);
    let proxy = SignalProxy::start(relay.port);
    let alice = daemon_behind_relay(&proxy.url(), "alice");
    let c = create_circle(&alice, "hostile");
    let bob = bob(&relay.url(), &c);
    send(&alice, &c.id, "general", "for members only");
    // More signals than a page (junk, with ids that do not move the cursor: a relay can
    // always deny its own signalling, this is about felundd reading what it sends).
    let junk: Vec<String> = (0..SIGNAL_POLL_LIMIT as i64 + 50)
        .map(|i| format!(r#"{{"id":{},"type":"offer","payload":"x"}}"#, -i))
        .collect();
    let polls = |status: u16| {
        proxy
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.status == status)
            .count()
    };
    proxy.set(SignalAnswer::Poll(format!(
        r#"{{"ok":true,"signals":[{}],"server_time":1}}"#,
        junk.join(",")
    )));
    let before = polls(200);
    wait_until("felundd to poll the over-full pages", || {
        polls(200) >= before + 2
    });
    relay_chat_flows(&alice, &bob, &c, "over-full pages");
    // An answer without end: felundd reads up to its cap and hangs up, every time.
    proxy.set(SignalAnswer::Endless);
    wait_until("felundd to hang up on two endless answers", || {
        proxy.endless_bytes().len() >= 2
    });
    for bytes in proxy.endless_bytes() {
        assert!(
            bytes < 64 * 1024 * 1024,
            "{bytes} bytes written before felundd hung up"
        );
    }
    relay_chat_flows(&alice, &bob, &c, "endless answers");
    assert!(alice.ctl(&["status"]).status.success());
    // Positive control: the relay answers honestly again, and a browser connects.
    proxy.set(SignalAnswer::Forward);
    let b = honest_browser(&py, &relay.url(), &c);
    browser_reaches(&b, &alice, "for members only");
}
