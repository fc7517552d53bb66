//! `cargo xtask`: this workspace's runner for the graywork tool, the same CLI that
//! `cargo graywork` is in any other workspace.

fn main() -> std::process::ExitCode {
    cargo_graywork::main(cargo_graywork::Runner::Xtask, std::env::args_os())
}
