//! The command line: `gateway serve`, `gateway config show`, `gateway gray explain`, `gateway token issue`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::telemetry::LogFormat;

/// The billing versions built in, as `--version` names them.
#[cfg(all(feature = "v1", feature = "v2"))]
const BILLING: &str = "billing v1, v2";
#[cfg(all(feature = "v1", not(feature = "v2")))]
const BILLING: &str = "billing v1";
#[cfg(all(not(feature = "v1"), feature = "v2"))]
const BILLING: &str = "billing v2";
#[cfg(not(any(feature = "v1", feature = "v2")))]
const BILLING: &str = "no billing version";

/// The `-V` text: crate version and the billing versions built in.
static VERSION: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{} ({BILLING})", env!("CARGO_PKG_VERSION")));

/// The `--version` text: crate version, billing versions, git revision and rustc.
static LONG_VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} ({BILLING}; {}, {})",
        env!("CARGO_PKG_VERSION"),
        env!("GATEWAY_GIT_REVISION"),
        env!("GATEWAY_RUSTC_VERSION")
    )
});

/// The graywork gateway: billing v1 and v2 side by side, chosen per request by gray rules.
#[derive(Debug, Parser)]
#[command(name = "gateway", version = VERSION.as_str(), long_version = LONG_VERSION.as_str())]
pub struct Cli {
    /// How log lines are written (stderr).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the service until SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// Inspects the merged configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Inspects gray routing.
    #[command(subcommand)]
    Gray(GrayCommand),
    /// Works with API bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Where the configuration comes from; shared by every command that loads it.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// The directory holding base.toml, ENV.toml and gray/*.toml.
    #[arg(long, default_value = "config")]
    pub config_dir: PathBuf,
    /// The environment layer to load (ENV.toml); none when unset.
    #[arg(long)]
    pub env: Option<String>,
}

/// `gateway serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The address to listen on; overrides `server.listen` (default 127.0.0.1:8080). Port 0
    /// picks a free port; the bound address is printed on stdout.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The admin listener's address; overrides `admin.listen` (default 127.0.0.1:9090). Port 0
    /// picks a free port; the bound address is printed on stdout.
    #[arg(long)]
    pub admin_listen: Option<SocketAddr>,
    /// Reloads the config whenever a file in the config directory changes, like
    /// `POST /config/reload`; also turned on by `server.watch_config = true`.
    #[arg(long)]
    pub watch: bool,
}

/// `gateway config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Prints the merged config with provenance; secrets are redacted.
    Show(ConfigShowArgs),
}

/// The output formats of `config show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// TOML-like `key = value  # origin` lines.
    Toml,
    /// A JSON object of key to value and origin.
    Json,
}

/// `gateway config show`.
#[derive(Debug, Clone, Args)]
pub struct ConfigShowArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Only this key, or the keys under this table (dotted path).
    #[arg(long)]
    pub key: Option<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = ShowFormat::Toml)]
    pub format: ShowFormat,
}

/// `gateway gray ...`.
#[derive(Debug, Subcommand)]
pub enum GrayCommand {
    /// Prints the route, rule, reason and bucket a request would get, without a server.
    Explain(ExplainArgs),
    /// Checks a fragment file with the other fragments and writes it to etcd (`[etcd]`) as
    /// PREFIX/NAME: a new key, or the revision `--expect-revision` names, in one transaction
    /// with the set it was checked with.
    Put(GrayPutArgs),
    /// Prints a fragment as etcd holds it (its revision on stderr).
    Get(GrayGetArgs),
    /// Deletes a fragment from etcd, once the others are checked without it, if it is still at
    /// the revision `--expect-revision` names.
    Delete(GrayDeleteArgs),
}

/// What a write expects of the key: a revision, or (`--force`) nothing.
#[derive(Debug, Clone, Args)]
pub struct Expectation {
    /// Write only if the key is still at this revision (the one `gray get` printed).
    #[arg(long, value_name = "REVISION", conflicts_with = "force")]
    pub expect_revision: Option<i64>,
    /// Write whatever revision the key is at (the check against the other fragments still
    /// holds).
    #[arg(long)]
    pub force: bool,
}

/// `gateway gray put`.
#[derive(Debug, Clone, Args)]
pub struct GrayPutArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The fragment's name under `etcd.prefix`, e.g. billing-v2.toml.
    pub name: String,
    /// The TOML file to write.
    pub file: PathBuf,
    /// Without `--expect-revision` or `--force`, only a key that does not exist is written.
    #[command(flatten)]
    pub expect: Expectation,
}

/// `gateway gray delete`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("expectation").required(true).args(["expect_revision", "force"])))]
pub struct GrayDeleteArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The fragment's name under `etcd.prefix`, e.g. billing-v2.toml.
    pub name: String,
    /// `--expect-revision` or `--force` is required.
    #[command(flatten)]
    pub expect: Expectation,
}

/// `gateway gray get`.
#[derive(Debug, Clone, Args)]
pub struct GrayGetArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The fragment's name under `etcd.prefix`, e.g. billing-v2.toml.
    pub name: String,
}

/// `gateway gray explain`.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The request path, e.g. /api/invoices.
    #[arg(long)]
    pub path: String,
    /// A request header `Name:Value`; repeatable.
    #[arg(long = "header", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// An instance label `key=value` overriding the configured labels; repeatable.
    #[arg(long = "label", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

/// `gateway token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issues an API bearer token signed with the configured auth key.
    Issue(TokenIssueArgs),
}

/// `gateway token issue`.
#[derive(Debug, Clone, Args)]
pub struct TokenIssueArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Who the token is for.
    #[arg(long)]
    pub subject: String,
    /// A scope to grant (`invoices:read`, `invoices:write`); repeatable.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// How long the token is valid, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl_seconds: u64,
}

/// Parses `Name:Value` (the value may be empty, the name may not).
fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("header `{text}`: expected NAME:VALUE"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("header `{text}`: empty name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Parses `key=value`.
fn parse_label(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("label `{text}`: expected KEY=VALUE"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("label `{text}`: empty key"));
    }
    Ok((key.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_to_the_config_directory_and_no_listen_override() {
        let cli = Cli::try_parse_from(["gateway", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.config.config_dir, PathBuf::from("config"));
        assert_eq!(args.listen, None);
        assert!(!args.watch);
        assert_eq!(cli.log_format, LogFormat::Text);
    }

    #[test]
    fn serve_watch_is_a_flag() {
        let cli = Cli::try_parse_from(["gateway", "serve", "--watch"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert!(args.watch);
        assert!(Cli::try_parse_from(["gateway", "serve", "--watch=maybe"]).is_err());
    }

    #[test]
    fn explain_collects_headers_and_labels() {
        let cli = Cli::try_parse_from([
            "gateway",
            "gray",
            "explain",
            "--path",
            "/api/invoices",
            "--header",
            "X-Canary: v2",
            "--label",
            "zone=cn-east",
            "--log-format",
            "json",
        ])
        .unwrap();
        let Command::Gray(GrayCommand::Explain(args)) = cli.command else {
            panic!("expected gray explain");
        };
        assert_eq!(args.headers, [("X-Canary".to_owned(), "v2".to_owned())]);
        assert_eq!(args.labels, [("zone".to_owned(), "cn-east".to_owned())]);
        assert_eq!(cli.log_format, LogFormat::Json);
    }

    #[test]
    fn malformed_headers_labels_and_addresses_are_rejected() {
        for argv in [
            &[
                "gateway", "gray", "explain", "--path", "/", "--header", "nocolon",
            ][..],
            &[
                "gateway", "gray", "explain", "--path", "/", "--header", ":v",
            ],
            &[
                "gateway", "gray", "explain", "--path", "/", "--label", "noequals",
            ],
            &["gateway", "serve", "--listen", "localhost"],
            &["gateway", "config", "show", "--format", "yaml"],
        ] {
            assert!(Cli::try_parse_from(argv).is_err(), "{argv:?}");
        }
        assert_eq!(
            parse_header("nocolon").unwrap_err(),
            "header `nocolon`: expected NAME:VALUE"
        );
        assert_eq!(parse_label("=x").unwrap_err(), "label `=x`: empty key");
    }
}
