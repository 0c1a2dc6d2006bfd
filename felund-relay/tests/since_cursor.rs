//! The reference clients' own `since` cursor is lossless on felund-relay (issue #15): readers
//! following the Python client's rule (`since = server_time`) and the web client's
//! (`since = max(since, server_time - 1)`) get a backlog far larger than a page, stored within
//! one second, exactly once — also with pages cut by bytes, with messages stored while they
//! page, and across clock steps — without any cursor stalling on a page.

#[macro_use]
mod common;

use std::collections::HashSet;

use common::since::{Rule, SinceReader};
use common::{message, sized, start, start_with, Backend, Member, Relay};
use serde_json::{json, Value};

/// What both reference clients ask for.
const LIMIT: u32 = 200;

/// Posts `count` new messages to `hint` in batches of 50, all in the relay's current second;
/// returns their ids.
async fn post(relay: &Relay, hint: &str, tag: &str, count: usize) -> HashSet<String> {
    post_with(relay, hint, tag, count, |id| message(id, 1)).await
}

async fn post_with(
    relay: &Relay,
    hint: &str,
    tag: &str,
    count: usize,
    make: impl Fn(&str) -> Value,
) -> HashSet<String> {
    let ids: Vec<String> = (0..count).map(|i| format!("{tag}-{i:06}")).collect();
    for chunk in ids.chunks(50) {
        let batch: Vec<Value> = chunk.iter().map(|id| make(id)).collect();
        let reply = relay.push_unsigned(hint, &batch, None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        assert_eq!(reply.json["stored"], json!(chunk.len()));
    }
    ids.into_iter().collect()
}

async fn a_2000_message_backlog_stored_in_one_second_reaches_both_reference_rules_whole(
    backend: Backend,
) {
    let relay = start(&backend).await;
    let hint = Member::new(1, "x-node-00001").hint;
    let written = post(&relay, &hint, "burst", 2000).await;
    for rule in Rule::BOTH {
        let mut reader = SinceReader::new(rule, &hint, LIMIT);
        reader.drain(&[&relay], 20).await;
        reader.assert_exactly(&written);
        // Ten full pages and the empty one that says "nothing new": no page twice.
        assert_eq!(reader.pulls, 11, "{rule:?}");
    }
    relay.stop().await;
}

async fn pages_cut_by_bytes_inside_one_second_lose_and_repeat_nothing(backend: Backend) {
    // A page holds about three of these objects, whatever `limit` asks for.
    let relay = start_with(&backend, |c| c.pull_max_bytes = 3 * 2_000).await;
    let hint = Member::new(2, "x-node-00001").hint;
    let written = post_with(&relay, &hint, "sized", 120, |id| {
        // Sizes vary so that pages end at different counts.
        let n: usize = id[6..].parse().expect("n");
        sized(id, 500 + (n % 7) * 400)
    })
    .await;
    for rule in Rule::BOTH {
        for limit in [1, 2, LIMIT] {
            let mut reader = SinceReader::new(rule, &hint, limit);
            reader.drain(&[&relay], 200).await;
            reader.assert_exactly(&written);
        }
    }
    relay.stop().await;
}

async fn messages_stored_while_a_client_pages_arrive_exactly_once(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(3, "x-node-00001").hint;
    let mut written = post(&relay, &hint, "backlog", 500).await;
    let mut readers = Rule::BOTH.map(|rule| SinceReader::new(rule, &hint, LIMIT));
    // Between pulls, more arrive: in the very second of the pull (the reference relays lose
    // those for the Python client), and after the clock moved on.
    for round in 0..12 {
        for reader in &mut readers {
            reader.pull(&relay).await;
        }
        written.extend(post(&relay, &hint, &format!("round{round:02}"), 30).await);
        if round % 3 == 2 {
            relay.clock.advance(1);
        }
    }
    for reader in &mut readers {
        reader.drain(&[&relay], 50).await;
        reader.assert_exactly(&written);
    }
    relay.stop().await;
}

async fn a_clock_stepping_back_or_forward_loses_nothing(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(4, "x-node-00001").hint;
    let mut written = post(&relay, &hint, "before", 300).await;
    let mut readers = Rule::BOTH.map(|rule| SinceReader::new(rule, &hint, LIMIT));
    for reader in &mut readers {
        reader.drain(&[&relay], 10).await;
    }
    // Back an hour (an NTP correction), then forward a day, then back again.
    for (step, tag) in [(-3600, "back"), (86_400, "ahead"), (-86_400, "again")] {
        relay.clock.set(relay.now() + step);
        written.extend(post(&relay, &hint, tag, 250).await);
        for reader in &mut readers {
            reader.drain(&[&relay], 10).await;
            reader.assert_exactly(&written);
        }
    }
    // A newcomer gets the whole history once.
    for rule in Rule::BOTH {
        let mut newcomer = SinceReader::new(rule, &hint, LIMIT);
        newcomer.drain(&[&relay], 20).await;
        newcomer.assert_exactly(&written);
    }
    relay.stop().await;
}

async fn polling_and_reposting_do_not_push_the_cursor_ahead(backend: Backend) {
    let relay = start(&backend).await;
    let hint = Member::new(5, "x-node-00001").hint;
    // What the reference Python client does every round: push its 100 newest, then pull.
    let written = post(&relay, &hint, "newest", 100).await;
    let mut reader = SinceReader::new(Rule::Python, &hint, LIMIT);
    let mut answers = HashSet::new();
    for _ in 0..20 {
        let again: Vec<Value> = written.iter().map(|id| message(id, 1)).collect();
        for chunk in again.chunks(50) {
            let reply = relay.push_unsigned(&hint, chunk, None).await;
            assert_eq!(reply.json["stored"], json!(0));
        }
        reader.pull(&relay).await;
        answers.insert(reader.since);
    }
    reader.assert_exactly(&written);
    // The burst put the circle's positions ahead of the clock by two per message; polling
    // and re-posting moved them no further.
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(reader.since, relay.now() + 2 * 100 - 1);
    // Once the clock has passed them, server_time is the clock again.
    relay.clock.advance(1000);
    reader.pull(&relay).await;
    assert_eq!(reader.since, relay.now() - 1);
    relay.stop().await;
}

on_both_backends!(
    a_2000_message_backlog_stored_in_one_second_reaches_both_reference_rules_whole,
    pages_cut_by_bytes_inside_one_second_lose_and_repeat_nothing,
    messages_stored_while_a_client_pages_arrive_exactly_once,
    a_clock_stepping_back_or_forward_loses_nothing,
    polling_and_reposting_do_not_push_the_cursor_ahead,
);
