//! The `gateway` binary: parse the command line, set up logging, run the command.

use clap::Parser as _;
use gateway::{Cli, LogFormat};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    gateway::init_telemetry(cli.log_format);
    let log_format = cli.log_format;
    match gateway::run(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Reported once: as a log event when logs are JSON (for the log shipper), else as
            // one plain line.
            match log_format {
                LogFormat::Json => tracing::error!("{error:#}"),
                LogFormat::Text => eprintln!("error: {error:#}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}
