//! `cargo xtask`: the command-line front of the workspace automation in the `xtask` library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = xtask::Cli::parse();
    match xtask::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
