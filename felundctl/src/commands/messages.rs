//! Messages: `send` and `inbox`.

use std::collections::VecDeque;
use std::io::Write;

use felund_client::limits::LIST_MESSAGES_MAX_PAGE;
use felund_client::{api, ApiClient};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::human::{clean_line, message_line};
use crate::output::{self, Out};

/// Send one message and print its msg_id (or its JSON).
async fn send_one(
    client: &mut ApiClient,
    out: &Out,
    circle: &str,
    channel: &str,
    text: String,
) -> anyhow::Result<()> {
    let req = api::SendMessageRequest {
        circle: circle.to_string(),
        channel: channel.to_string(),
        text,
    };
    let sent = client.send_message(req).await?.into_inner();
    print_sent(out, &sent)
}

/// Lines `send -` sends ahead of their answers. Enough to keep felundd's group
/// commit full; each still gets its answer (and its output line) once committed.
const SEND_WINDOW: usize = 256;

/// `send --circle-id C [--channel CH] TEXT`: SendMessage.
///
/// TEXT `-` sends each non-empty line of standard input as its own message, as
/// the lines arrive, over one SendMessages stream: up to [`SEND_WINDOW`] lines are
/// in flight, they are stored and printed in input order, and the first refused
/// line stops it (the error names the line and how many were sent before it).
pub async fn send(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
    text: String,
) -> anyhow::Result<()> {
    if text != "-" {
        return send_one(client, out, &circle, &channel, text).await;
    }
    send_lines(client, out, circle, channel).await
}

/// `send -`: see [`send`].
async fn send_lines(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
) -> anyhow::Result<()> {
    let (requests, outgoing) = tokio::sync::mpsc::channel(SEND_WINDOW);
    let mut answers = client
        .send_messages(tokio_stream::wrappers::ReceiverStream::new(outgoing))
        .await?
        .into_inner();
    let mut requests = Some(requests);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    // Input line numbers of the lines sent and not answered yet, oldest first. The
    // channel never holds more than these, so sending into it never waits.
    let mut waiting: VecDeque<usize> = VecDeque::new();
    let (mut line_no, mut sent) = (0usize, 0usize);
    loop {
        tokio::select! {
            line = lines.next_line(), if requests.is_some() && waiting.len() < SEND_WINDOW => {
                let Some(line) = line? else {
                    // End of input: closing our side lets felundd finish the stream.
                    requests = None;
                    continue;
                };
                line_no += 1;
                let line = line.strip_suffix('\r').unwrap_or(&line);
                if line.trim().is_empty() {
                    continue;
                }
                let req = api::SendMessageRequest {
                    circle: circle.clone(),
                    channel: channel.clone(),
                    text: line.to_string(),
                };
                if let Some(tx) = &requests {
                    // felundd closed the stream: its answer says why.
                    if tx.send(req).await.is_err() {
                        requests = None;
                    }
                }
                waiting.push_back(line_no);
            }
            answer = answers.message() => match answer {
                Ok(Some(sent_msg)) => {
                    waiting.pop_front();
                    sent += 1;
                    print_sent(out, &sent_msg)?;
                }
                Ok(None) => return Ok(()),
                Err(status) => return Err(refused_line(status, waiting.front(), sent).into()),
            },
        }
    }
}

/// The status a refused line ends `send -` with: felundd's reason, which line it was
/// and how many lines were sent before it. A lost connection stays as it is.
fn refused_line(status: tonic::Status, line: Option<&usize>, sent: usize) -> tonic::Status {
    let Some(line) = line else {
        return status;
    };
    if std::error::Error::source(&status).is_some() {
        return status;
    }
    let before = match sent {
        1 => "1 line before it was sent".to_string(),
        n => format!("{n} lines before it were sent"),
    };
    tonic::Status::new(
        status.code(),
        format!("line {line} was refused: {} ({before})", status.message()),
    )
}

/// Prints one sent message: its msg_id, or its JSON.
fn print_sent(out: &Out, sent: &api::Message) -> anyhow::Result<()> {
    if out.is_json() {
        out.json(&output::message(sent))
    } else {
        Ok(out.line(&sent.msg_id)?)
    }
}

/// Which messages `inbox` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxSpan {
    /// The newest `limit` messages (older than `before`, if given).
    Newest { limit: u32, before: Option<String> },
    /// Every message, read forwards from the first one.
    All,
}

/// `inbox --circle-id C [--channel CH] [--limit N | --all] [--before CURSOR]`:
/// ListMessages, a page of at most [`LIST_MESSAGES_MAX_PAGE`] at a time.
pub async fn inbox(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
    span: InboxSpan,
) -> anyhow::Result<()> {
    let mut printer = InboxPrinter {
        out,
        channel: &channel,
        printed: 0,
    };
    match span {
        InboxSpan::All => {
            let mut after = String::new();
            loop {
                let page = list_page(client, &circle, &channel, LIST_MESSAGES_MAX_PAGE, |r| {
                    r.after = after.clone();
                    r.from_start = true;
                })
                .await?;
                // Each page goes out as it arrives: an export of any size runs in
                // one page of memory.
                printer.messages(&page.messages)?;
                match page.next_after.is_empty() {
                    true => break,
                    false => after = page.next_after,
                }
            }
            printer.finish(&circle, "")
        }
        InboxSpan::Newest { limit, before } => {
            let (pages, next_before) =
                newest_pages(client, &circle, &channel, limit, before.unwrap_or_default()).await?;
            for page in pages.iter().rev() {
                printer.messages(page)?;
            }
            printer.finish(&circle, &next_before)
        }
    }
}

/// The newest `limit` messages before `before`, as pages newest page first, and the
/// cursor of what is older still (empty if nothing is).
async fn newest_pages(
    client: &mut ApiClient,
    circle: &str,
    channel: &str,
    limit: u32,
    mut before: String,
) -> anyhow::Result<(Vec<Vec<api::Message>>, String)> {
    let mut pages = Vec::new();
    let mut left = limit;
    while left > 0 {
        let page = list_page(
            client,
            circle,
            channel,
            left.min(LIST_MESSAGES_MAX_PAGE),
            |r| r.before = before.clone(),
        )
        .await?;
        left = left.saturating_sub(page.messages.len() as u32);
        before = page.next_before;
        pages.push(page.messages);
        if before.is_empty() {
            break;
        }
    }
    Ok((pages, before))
}

/// One ListMessages call for `circle`/`channel`, with `set` filling in the paging.
async fn list_page(
    client: &mut ApiClient,
    circle: &str,
    channel: &str,
    limit: u32,
    set: impl FnOnce(&mut api::ListMessagesRequest),
) -> anyhow::Result<api::ListMessagesResponse> {
    let mut req = api::ListMessagesRequest {
        circle: circle.to_string(),
        channel: channel.to_string(),
        limit,
        ..Default::default()
    };
    set(&mut req);
    Ok(client.list_messages(req).await?.into_inner())
}

/// Writes `inbox` output: one line (or JSON object) per message, then the paging
/// hint on stderr.
struct InboxPrinter<'a> {
    out: &'a Out,
    channel: &'a str,
    printed: usize,
}

impl InboxPrinter<'_> {
    fn messages(&mut self, messages: &[api::Message]) -> anyhow::Result<()> {
        for m in messages {
            if self.out.is_json() {
                self.out.json(&output::message(m))?;
            } else {
                self.out.line(message_line(m, ""))?;
            }
        }
        self.printed += messages.len();
        Ok(())
    }

    /// Ends the output; `next_before` is the cursor of older messages, if any.
    fn finish(&self, circle: &str, next_before: &str) -> anyhow::Result<()> {
        if self.out.is_json() {
            if !next_before.is_empty() {
                // stdout stays one message object per line; the paging cursor goes to
                // stderr as its own JSON object, for scripts that page backwards.
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    serde_json::json!({ "next_before": next_before })
                );
            }
            return Ok(());
        }
        if self.printed == 0 {
            self.out
                .line(format!("No messages in #{}.", clean_line(self.channel)))?;
        }
        if !next_before.is_empty() {
            // A hint for people only, so stdout stays just messages.
            let _ = writeln!(
                std::io::stderr(),
                "(older messages: felundctl inbox --circle-id {} --channel {} --before {})",
                shell_word(circle),
                shell_word(self.channel),
                shell_word(next_before)
            );
        }
        Ok(())
    }
}

/// `word` quoted for a POSIX shell when it needs to be.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/+=#@%,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", clean_line(word).replace('\'', r"'\''"))
    }
}

/// `search TEXT [--circle-id C] [--channel CH] [--limit N]`: SearchMessages.
pub async fn search(
    client: &mut ApiClient,
    out: &Out,
    query: String,
    circle: Option<String>,
    channel: Option<String>,
    limit: u32,
) -> anyhow::Result<()> {
    let req = api::SearchMessagesRequest {
        query,
        circle: circle.unwrap_or_default(),
        channel: channel.unwrap_or_default(),
        limit,
    };
    let found = client.search_messages(req).await?.into_inner().messages;
    if out.is_json() {
        for m in &found {
            out.json(&output::message(m))?;
        }
        return Ok(());
    }
    if found.is_empty() {
        out.line("No messages match.")?;
    }
    let names = super::circle_names(client).await?;
    for m in &found {
        out.line(message_line(
            m,
            &format!(
                "{} #{} ",
                names.label(&m.circle_id),
                clean_line(&m.channel_id)
            ),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("abc123"), "abc123");
        assert_eq!(shell_word("my circle"), "'my circle'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
