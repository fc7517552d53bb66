//! The `rollout` command line: run a rollout, show its state, pause, resume, promote or abort it.
//!
//! Exit codes: 0 the rollout succeeded (or the command was done), 1 it ended without promotion
//! (rolled back, aborted, stopped), 2 the spec, state or command line is wrong.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use rollout::{
    AdminClient, Command, Context, ControllerLock, Events, FileWriter, Mode, Phase, Prometheus,
    RolloutMetrics, Spec, State, StateStore,
};

#[derive(Debug, Parser)]
#[command(
    name = "rollout",
    version,
    about = "Drive a gray rollout step by step, with automated analysis and rollback"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Drive the rollout to its end, resuming from the saved state.
    Run {
        /// The rollout spec (TOML).
        spec: PathBuf,
        #[command(flatten)]
        output: Output,
        /// Serve `/metrics` on this loopback address (overrides `controller.metrics_listen`).
        #[arg(long)]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// Write a spec for an upgrade plan's gray stage (`upgrade-plan --format json`): the
    /// fragment, rule and steps come from the plan, the placement from these arguments.
    Init {
        /// The plan, as `upgrade-plan --format json` prints it.
        #[arg(long, value_name = "PLAN_JSON")]
        plan: PathBuf,
        /// The plan's stage (default: its only stage with gray steps).
        #[arg(long)]
        stage: Option<usize>,
        /// The workspace root the plan's paths are relative to.
        #[arg(long, value_name = "DIR", default_value = ".")]
        workspace: PathBuf,
        /// Prometheus base URL.
        #[arg(long, value_name = "URL")]
        prometheus: String,
        /// An instance's name and admin base URL (repeatable).
        #[arg(long = "instance", value_name = "NAME=ADMIN_URL", required = true)]
        instances: Vec<String>,
        /// Where to write the spec; its relative paths resolve against its directory.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Show the saved state.
    Status {
        /// The rollout spec (TOML).
        spec: PathBuf,
        /// Print the state as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop analysing and progressing (the deadline stands still).
    Pause(Control),
    /// Continue after `pause`.
    Resume(Control),
    /// Skip the remaining analysis and go to 100%.
    Promote(Control),
    /// Roll back to 0% and end the rollout as aborted.
    Abort {
        #[command(flatten)]
        control: Control,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
struct Output {
    /// Append the JSON-lines event log to this file (default: stdout).
    #[arg(long)]
    events: Option<PathBuf>,
    /// No progress display, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Debug, clap::Args)]
struct Control {
    /// The rollout spec (TOML).
    spec: PathBuf,
    #[command(flatten)]
    output: Output,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Cmd) -> anyhow::Result<ExitCode> {
    match command {
        Cmd::Run {
            spec,
            output,
            metrics_listen,
        } => run_rollout(&spec, &output, metrics_listen),
        Cmd::Init {
            plan,
            stage,
            workspace,
            prometheus,
            instances,
            output,
        } => init(&plan, stage, &workspace, prometheus, &instances, &output),
        Cmd::Status { spec, json } => status(&spec, json),
        Cmd::Pause(control) => control_command(&control, Command::Pause, None),
        Cmd::Resume(control) => control_command(&control, Command::Resume, None),
        Cmd::Promote(control) => control_command(&control, Command::Promote, None),
        Cmd::Abort { control, reason } => {
            control_command(&control, Command::Abort, reason.as_deref())
        }
    }
}

/// `rollout init`: the spec is written only once it parses as a spec, and never over a file;
/// its directory is created when missing.
fn init(
    plan: &Path,
    stage: Option<usize>,
    workspace: &Path,
    prometheus: String,
    instances: &[String],
    output: &Path,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(plan)
        .with_context(|| format!("cannot read the plan {}", plan.display()))?;
    let instances = instances
        .iter()
        .map(|entry| {
            entry
                .split_once('=')
                .map(|(name, url)| (name.to_owned(), url.to_owned()))
                .with_context(|| format!("--instance {entry}: expected NAME=ADMIN_URL"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let output_dir = absolute(output.parent().unwrap_or(Path::new("")))?;
    let workspace = absolute(workspace)?;
    let placement = rollout::Placement {
        prometheus,
        instances,
        fragment_prefix: relative_prefix(&output_dir, &workspace),
    };
    let spec = rollout::spec_from_plan(&text, stage, &placement)
        .with_context(|| format!("in {}", plan.display()))?;
    Spec::parse(output, &spec).context("the generated spec does not validate")?;
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(output)
        .with_context(|| format!("cannot create {} (it must not exist yet)", output.display()))?;
    file.write_all(spec.as_bytes())
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!("wrote {}", output.display());
    Ok(ExitCode::SUCCESS)
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}

/// The prefix that turns a path relative to `to` into one relative to `from`: `../../` and the
/// rest of `to` below their common ancestor, with `/` separators and a trailing `/`.
fn relative_prefix(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut prefix = "../".repeat(from.len() - common);
    for part in &to[common..] {
        prefix.push_str(&part.as_os_str().to_string_lossy());
        prefix.push('/');
    }
    prefix
}

fn load_spec(path: &Path) -> anyhow::Result<Spec> {
    Ok(Spec::load(path)?)
}

fn events(output: &Output) -> anyhow::Result<Events> {
    let out: Box<dyn Write + Send> = match &output.events {
        Some(path) => Box::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open event log {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    Ok(Events::new(out, !output.no_progress))
}

/// 0 when the rollout succeeded, 1 when it ended otherwise.
fn exit_for(state: &State) -> ExitCode {
    match state.phase {
        Phase::Succeeded => ExitCode::SUCCESS,
        Phase::RolledBack | Phase::Aborted | Phase::Stopped => ExitCode::from(1),
        // Paused or still running (after a command with no controller): not a failure.
        _ => ExitCode::SUCCESS,
    }
}

fn drive(
    spec: &Spec,
    output: &Output,
    mode: Mode,
    metrics: &RolloutMetrics,
) -> anyhow::Result<State> {
    let mut events = events(output)?;
    let writer: Box<dyn rollout::ConfigWriter> = match &spec.etcd {
        None => Box::new(FileWriter::new(&spec.fragment, &spec.rule)),
        Some(target) => {
            let mut options = fleet::ClientOptions::new(&[]);
            options.endpoints.clone_from(&target.endpoints);
            let client = fleet::EtcdClient::new(options).context("invalid `target.etcd`")?;
            Box::new(rollout::EtcdWriter::new(client, &target.key, &spec.rule))
        }
    };
    let admin = AdminClient::new();
    let prometheus = Prometheus::new(&spec.analysis.prometheus, spec.analysis.query_timeout);
    let state = rollout::drive(
        Context {
            spec,
            writer: writer.as_ref(),
            admin: &admin,
            source: &prometheus,
            events: &mut events,
            metrics,
        },
        mode,
    )
    .with_context(|| format!("rollout {} failed", spec.file.display()))?;
    Ok(state)
}

fn run_rollout(
    path: &Path,
    output: &Output,
    metrics_listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    let spec = load_spec(path)?;
    let metrics = Arc::new(RolloutMetrics::new());
    let serving = metrics_listen.or(spec.controller.metrics_listen);
    if let Some(addr) = serving {
        if !addr.ip().is_loopback() {
            bail!("--metrics-listen must be a loopback address, not {addr}");
        }
        let bound = rollout::serve_metrics(Arc::clone(&metrics), addr)
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
        eprintln!("rollout metrics on http://{bound}/metrics");
    }
    let state = drive(&spec, output, Mode::Run, &metrics)?;
    if serving.is_some() && state.phase.is_final() {
        // The end state is evidence too: keep `/metrics` up until a scrape has read it, or for
        // `controller.metrics_linger`, so Prometheus records the final percent and rollback time.
        let seen = metrics.scrapes();
        if metrics.wait_for_scrape(seen, spec.controller.metrics_linger) {
            // The scrape was rendered; give its answer time to leave before the process ends.
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!(
        "rollout {}{}",
        state.phase.name().replace('_', " "),
        state
            .reason
            .as_deref()
            .map_or_else(String::new, |r| format!(": {r}"))
    );
    Ok(exit_for(&state))
}

fn status(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let spec = load_spec(path)?;
    let state = saved_state(&spec)?;
    let text = if json {
        format!("{}\n", serde_json::to_string_pretty(&state)?)
    } else {
        rollout::render_status(&spec, &state)
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn saved_state(spec: &Spec) -> anyhow::Result<State> {
    let file = &spec.controller.state;
    if !file.exists() {
        bail!(
            "no rollout state at {} (start the rollout with `rollout run {}`)",
            file.display(),
            spec.file.display()
        );
    }
    StateStore::open(file)?
        .load(&spec.identity)?
        .with_context(|| format!("state database {} holds no rollout yet", file.display()))
}

/// How long a command waits for a running controller to take it.
const TAKE_TIMEOUT: Duration = Duration::from_secs(30);

fn control_command(
    control: &Control,
    command: Command,
    reason: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&control.spec)?;
    saved_state(&spec)?;
    let store = StateStore::open(&spec.controller.state)?;
    let id = store.enqueue(command, reason)?;
    let free = ControllerLock::try_acquire(&spec.controller.state)?.is_some();
    if free {
        // No controller runs: act on the command here, finishing whatever it starts (a
        // promotion applies 100%, an abort rolls back).
        let metrics = RolloutMetrics::new();
        let state = drive(&spec, &control.output, Mode::Commands, &metrics)?;
        eprintln!(
            "{}: done; rollout is {}{}",
            command.as_str(),
            state.phase.name().replace('_', " "),
            if state.paused { " (paused)" } else { "" }
        );
        return Ok(exit_for(&state));
    }
    let started = Instant::now();
    while !store.taken(id)? {
        if started.elapsed() > TAKE_TIMEOUT {
            bail!(
                "{} is queued in {}, but the running controller has not taken it within {} s",
                command.as_str(),
                spec.controller.state.display(),
                TAKE_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("{}: taken by the running controller", command.as_str());
    Ok(ExitCode::SUCCESS)
}
