//! One function per subcommand, grouped by area. Each sends its request(s) with the
//! connected client and prints the result through [`Out`]: a text form for people,
//! or the JSON of [`crate::output`] with `--json`.

mod channels;
mod circles;
mod messages;
mod node;
mod status;
mod watch;

use std::path::Path;

use felund_client::ApiClient;

use crate::cli::{ChannelCommand, Command};
use crate::human::CircleNames;
use crate::output::Out;

/// Run one subcommand against a connected felundd.
pub async fn run(
    command: Command,
    client: &mut ApiClient,
    socket: &Path,
    out: &Out,
) -> anyhow::Result<()> {
    match command {
        Command::Status { verbose } => status::status(client, out, verbose).await,
        Command::Name { name } => node::name(client, out, name).await,
        Command::Relay { url, off } => node::relay(client, out, url, off).await,
        Command::ImportState { path } => node::import_state(client, out, &path).await,
        Command::Search {
            words,
            circle,
            channel,
            limit,
        } => messages::search(client, out, words.join(" "), circle.circle, channel, limit).await,
        Command::Invite { name } => circles::invite(client, out, name).await,
        Command::Code(c) => circles::code(client, out, c.circle).await,
        Command::Join(j) => circles::join(client, out, j.code().to_string()).await,
        Command::Circles => circles::list(client, out).await,
        Command::Leave(c) => circles::leave(client, out, c.circle).await,
        Command::Rename { circle, name } => circles::rename(client, out, circle.circle, name).await,
        Command::Peers(c) => circles::peers(client, out, c.circle).await,
        Command::Channels(c) => channels::list(client, out, c.circle).await,
        Command::Read { circle, channel } => {
            channels::read(client, out, circle.circle, channel.channel).await
        }
        Command::Channel(sub) => channel(client, out, sub).await,
        Command::Who { circle, channel } => {
            channels::who(client, out, circle.circle, channel).await
        }
        Command::Send {
            circle,
            channel,
            words,
        } => messages::send(client, out, circle.circle, channel.channel, words.join(" ")).await,
        Command::Inbox {
            circle,
            channel,
            limit,
            all,
            before,
        } => {
            let span = if all {
                messages::InboxSpan::All
            } else {
                messages::InboxSpan::Newest { limit, before }
            };
            messages::inbox(client, out, circle.circle, channel.channel, span).await
        }
        Command::Watch { circle, follow } => {
            watch::watch(client, socket, out, circle.circle, follow).await
        }
        Command::Completions { .. } | Command::Manpages { .. } => {
            anyhow::bail!("this command runs without felundd (see crate::local)")
        }
    }
}

/// The names of this node's circles, for text output (JSON keeps ids).
async fn circle_names(client: &mut ApiClient) -> anyhow::Result<CircleNames> {
    let circles = client
        .list_circles(felund_client::api::ListCirclesRequest {})
        .await?
        .into_inner()
        .circles;
    Ok(CircleNames::of(&circles))
}

/// Run a `channel` subcommand.
async fn channel(client: &mut ApiClient, out: &Out, sub: ChannelCommand) -> anyhow::Result<()> {
    match sub {
        ChannelCommand::Create {
            name,
            circle,
            access,
            key,
        } => channels::create(client, out, circle.circle, name, access, key).await,
        ChannelCommand::Join { name, circle, key } => {
            channels::join(client, out, circle.circle, name, key).await
        }
        ChannelCommand::Leave { name, circle } => {
            channels::leave(client, out, circle.circle, name).await
        }
        ChannelCommand::Approve {
            name,
            node_id,
            circle,
        } => channels::approve(client, out, circle.circle, name, node_id).await,
    }
}
