//! What the command line prints and how: colour choice, the one error report, writing to a
//! stdout that may be closed.

use std::ffi::OsString;
use std::io::Write as _;

use anyhow::Context as _;

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal, unless `NO_COLOR` is set; never a pipe or a file.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Makes every later write through `anstream` follow `choice`.
pub(crate) fn set_color(choice: ColorChoice) {
    match choice {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    }
    .write_global();
}

/// The `--color` given on the raw command line, so the help and usage errors clap prints
/// before parsing finishes follow it too. The last one wins, as in the parsed arguments.
pub(crate) fn color_from_args(args: &[OsString]) -> ColorChoice {
    let mut choice = ColorChoice::Auto;
    let mut args = args.iter().map(|arg| arg.to_string_lossy());
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next().map(|value| value.into_owned()),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        };
        choice = match value.as_deref() {
            Some("always") => ColorChoice::Always,
            Some("never") => ColorChoice::Never,
            Some("auto") => ColorChoice::Auto,
            _ => choice,
        };
        if arg == "--" {
            break;
        }
    }
    choice
}

/// The clap command for `runner`, named as the user typed it and coloured as asked.
pub(crate) fn styled_command<P: clap::CommandFactory>(
    runner: crate::Runner,
    color: ColorChoice,
) -> clap::Command {
    P::command()
        .name(runner.command())
        .bin_name(runner.command())
        .color(match color {
            ColorChoice::Auto => clap::ColorChoice::Auto,
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
        })
}

/// Prints what clap has to say (help, version or a usage error) and returns the exit code:
/// 0 for help and version, 2 for usage errors.
pub(crate) fn clap_exit(error: &clap::Error) -> u8 {
    // A closed stdout (`--help | head -1`) is the reader's choice, not an error.
    let _ = error.print();
    if error.use_stderr() { 2 } else { 0 }
}

/// Prints `error` once, as `error: what: why: …`. Causes that carry their own `error:` prefix
/// (cargo's stderr, for one) lose it, so the report never says "error: … error: …".
pub(crate) fn report_error(error: &anyhow::Error) {
    let message = error
        .chain()
        .map(|cause| {
            let text = cause.to_string();
            let text = text.trim();
            let text = text.strip_prefix("error: ").unwrap_or(text);
            // A cause that quotes a child's stderr inline (`… failed: error: …`).
            text.replace(": error: ", ": ")
        })
        .collect::<Vec<_>>()
        .join(": ");
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    let _ = writeln!(
        anstream::stderr(),
        "{style}error:{style:#} {}",
        message.replace("\nerror: ", "\n")
    );
}

/// Writes `text` to stdout. A closed stdout (`… | head -1`) is the reader's choice: the write
/// stops quietly and the command still succeeds.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// Writes `text` to stderr, unless `quiet`.
pub(crate) fn note(quiet: bool, text: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(args: &[&str]) -> ColorChoice {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        color_from_args(&args)
    }

    #[test]
    fn color_is_read_before_parsing() {
        assert_eq!(choice(&["cargo-graywork", "graph"]), ColorChoice::Auto);
        assert_eq!(
            choice(&["x", "--color", "always", "graph"]),
            ColorChoice::Always
        );
        assert_eq!(choice(&["x", "graph", "--color=never"]), ColorChoice::Never);
        assert_eq!(
            choice(&["x", "--color=never", "--color=always"]),
            ColorChoice::Always
        );
        assert_eq!(
            choice(&["x", "--color=bogus"]),
            ColorChoice::Auto,
            "clap reports the bad value"
        );
        assert_eq!(choice(&["x", "--", "--color=always"]), ColorChoice::Auto);
    }
}
