//! felund-tui: the terminal client. Not built yet (see the TUI issue); until then it
//! points people at felundctl.

fn main() -> std::process::ExitCode {
    eprintln!("felund-tui is not available yet; use `felundctl` (see `felundctl --help`).");
    std::process::ExitCode::from(2)
}
