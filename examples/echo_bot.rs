//! A felund echo bot: `cargo run --example echo_bot`. The socket is `$FELUND_SOCKET`
//! or felundd's default; the circle `$FELUND_BOT_CIRCLE`, or every circle.

use felund_client::{api::Message, bot::Bot};

async fn echo(_msg: Message, args: String) -> Option<String> {
    Some(args)
}

async fn ping(_msg: Message, _args: String) -> Option<String> {
    Some("pong".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let bot = Bot::new()
        .command("echo", "repeat TEXT", echo)
        .command("ping", "answer pong", ping);
    eprintln!("echo_bot: {}", bot.run().await); // runs until felundd refuses it
    std::process::ExitCode::from(2)
}
