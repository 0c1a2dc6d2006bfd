//! Messages: `send` and `inbox`.

use std::collections::VecDeque;
use std::io::Write;

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

/// `inbox --circle-id C [--channel CH] [--limit N] [--before CURSOR]`: ListMessages.
pub async fn inbox(
    client: &mut ApiClient,
    out: &Out,
    circle: String,
    channel: String,
    limit: u32,
    before: Option<String>,
) -> anyhow::Result<()> {
    let req = api::ListMessagesRequest {
        circle: circle.clone(),
        channel: channel.clone(),
        limit,
        before: before.unwrap_or_default(),
    };
    let page = client.list_messages(req).await?.into_inner();
    if out.is_json() {
        for m in &page.messages {
            out.json(&output::message(m))?;
        }
        if !page.next_before.is_empty() {
            // stdout stays one message object per line; the paging cursor goes to
            // stderr as its own JSON object, for scripts that page backwards.
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                serde_json::json!({ "next_before": page.next_before })
            );
        }
        return Ok(());
    }
    if page.messages.is_empty() {
        out.line(format!("No messages in #{}.", clean_line(&channel)))?;
    }
    for m in &page.messages {
        out.line(message_line(m, ""))?;
    }
    if !page.next_before.is_empty() {
        // A hint for people only, so stdout stays just messages.
        let _ = writeln!(
            std::io::stderr(),
            "(older messages: felundctl inbox --circle-id {} --channel {} --before {})",
            shell_word(&circle),
            shell_word(&channel),
            shell_word(&page.next_before)
        );
    }
    Ok(())
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
