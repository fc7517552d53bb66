//! `cargo-graywork`: the installed binary, run as `cargo graywork …` in any workspace.

fn main() -> std::process::ExitCode {
    cargo_graywork::main(cargo_graywork::Runner::Graywork, std::env::args_os())
}
