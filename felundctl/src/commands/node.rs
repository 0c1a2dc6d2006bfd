//! `name`, `relay` and `import-state`: this node's identity and settings.

use felund_client::{api, ApiClient};

use crate::human::{clean_line, duration};
use crate::output::{self, Out};

/// Settings that felundctl changes at runtime, with the live value.
pub(super) fn live_value(info: &api::NodeInfo, key: &str) -> Option<String> {
    match key {
        "name" => Some(info.display_name.clone()),
        "relay" => Some(info.relay_url.clone()),
        _ => None,
    }
}

/// The live value of `key`, when it differs from what a flag, the environment or the
/// config file sets (and will set again at the next start).
pub(super) fn live_override(info: &api::NodeInfo, key: &str) -> Option<String> {
    let c = info
        .config
        .iter()
        .find(|c| c.key == key && c.source != "default")?;
    let live = live_value(info, key)?;
    (c.value.trim_matches('"') != live).then_some(live)
}

/// After a runtime change: say when felundd's configuration will undo it at the next
/// start (flags and the config file win; see README "Configuration").
fn note_configured(out: &Out, info: &api::NodeInfo, key: &str) {
    if live_override(info, key).is_none() {
        return;
    }
    if let Some(c) = info.config.iter().find(|c| c.key == key) {
        out.note(format!(
            "felundd's {} sets {key} = {} and will set it back at its next start; change it there to keep this value",
            c.source,
            clean_line(&c.value)
        ));
    }
}

/// The relay and how it is doing, on one line.
pub(super) fn relay_line(info: &api::NodeInfo) -> String {
    if info.relay_url.is_empty() {
        return "(none)".to_string();
    }
    let url = clean_line(&info.relay_url);
    let push = if info.relay_push_connected {
        ", push connected"
    } else {
        ""
    };
    let now = chrono::Utc::now().timestamp();
    let ago = |ts: i64| format!("{} ago", duration(now.saturating_sub(ts).max(0) as u64));
    if info.relay_last_attempt == 0 {
        format!("{url} (not contacted yet)")
    } else if info.relay_ok {
        format!(
            "{url} (ok, last contact {}{push})",
            ago(info.relay_last_success)
        )
    } else {
        let since = if info.relay_last_success == 0 {
            "never reached".to_string()
        } else {
            format!("last reached {}", ago(info.relay_last_success))
        };
        format!(
            "{url} (failing, last try {}: {}; {since}{push})",
            ago(info.relay_last_attempt),
            clean_line(&info.relay_last_error)
        )
    }
}

/// `relay [URL] [--off]`: show the relay, or SetRelay.
pub async fn relay(
    client: &mut ApiClient,
    out: &Out,
    url: Option<String>,
    off: bool,
) -> anyhow::Result<()> {
    let changing = url.is_some() || off;
    let info = match (url, off) {
        (Some(u), _) => {
            client
                .set_relay(api::SetRelayRequest { relay_url: u })
                .await?
        }
        (None, true) => {
            client
                .set_relay(api::SetRelayRequest {
                    relay_url: String::new(),
                })
                .await?
        }
        (None, false) => client.get_node_info(api::GetNodeInfoRequest {}).await?,
    }
    .into_inner();
    if changing {
        note_configured(out, &info, "relay");
    }
    if out.is_json() {
        return out.json(&output::node_info(&info));
    }
    out.line(relay_line(&info))?;
    Ok(())
}

/// `name [NEW]`: GetNodeInfo to show, SetDisplayName to set.
pub async fn name(client: &mut ApiClient, out: &Out, new: Option<String>) -> anyhow::Result<()> {
    let info = match &new {
        None => client.get_node_info(api::GetNodeInfoRequest {}).await,
        Some(display_name) => {
            let req = api::SetDisplayNameRequest {
                display_name: display_name.clone(),
            };
            client.set_display_name(req).await
        }
    }?
    .into_inner();
    if let Some(typed) = &new {
        out.note_if_shortened(typed, &info.display_name);
        note_configured(out, &info, "name");
    }
    if out.is_json() {
        return out.json(&output::node_info(&info));
    }
    match new {
        None => out.line(clean_line(&info.display_name))?,
        Some(_) => out.line(format!(
            "Display name set to {}.",
            clean_line(&info.display_name)
        ))?,
    }
    Ok(())
}

/// `import-state PATH`: ImportState with the file's contents.
pub async fn import_state(
    client: &mut ApiClient,
    out: &Out,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let state_json =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let r = client
        .import_state(api::ImportStateRequest { state_json })
        .await?
        .into_inner();
    if out.is_json() {
        return out.json(&serde_json::json!({
            "adopted_node_id": r.adopted_node_id,
            "circles": r.circles,
            "messages": r.messages,
            "beyond_retention": r.beyond_retention,
            "peers": r.peers,
            "channels": r.channels,
            "warnings": r.warnings,
        }));
    }
    out.line(format!(
        "Imported {} circles, {} messages, {} peers, {} channels.",
        r.circles, r.messages, r.peers, r.channels
    ))?;
    if r.beyond_retention > 0 {
        out.line(format!(
            "  not kept: {} older messages, beyond this node's retention (felundd --retention-days / --max-messages-per-circle).",
            r.beyond_retention
        ))?;
    }
    for w in &r.warnings {
        out.line(format!("  skipped: {}", clean_line(w)))?;
    }
    if !r.adopted_node_id.is_empty() {
        out.line(format!(
            "This node takes on the imported identity {} when felundd restarts (systemctl --user restart felundd).",
            r.adopted_node_id
        ))?;
    }
    Ok(())
}
