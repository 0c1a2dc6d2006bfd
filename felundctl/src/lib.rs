//! felundctl's command-line definitions, as a library so the install tool
//! (`cargo xtask install`) can render felundctl's completions and man pages without
//! running it. The program itself is `main.rs`.

pub mod cli;
