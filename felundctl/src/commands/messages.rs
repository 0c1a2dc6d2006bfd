//! Messages: `send` and `inbox`.

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
    if out.is_json() {
        out.json(&output::message(&sent))
    } else {
        Ok(out.line(&sent.msg_id)?)
    }
}

/// `send --circle-id C [--channel CH] TEXT`: SendMessage.
///
/// TEXT `-` sends each non-empty line of standard input as its own message, as
/// the lines arrive, and stops at the first refused one.
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
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.trim().is_empty() {
            continue;
        }
        send_one(client, out, &circle, &channel, line.to_string()).await?;
    }
    Ok(())
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
