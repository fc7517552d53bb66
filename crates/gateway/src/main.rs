//! The `gateway` binary: parse the command line, set up logging, run the command.

use clap::Parser as _;
use gateway::cli::Cli;
use gateway::telemetry::LogFormat;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    gateway::telemetry::init(cli.log_format);
    let log_format = cli.log_format;
    match gateway::commands::run(cli.command) {
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
