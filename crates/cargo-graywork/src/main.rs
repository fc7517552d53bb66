//! `cargo-graywork`: the installed binary, run as `cargo graywork …` in any workspace.

/// Parsing crates allocates per token; mimalloc makes that markedly faster than the system
/// allocator (see the `check-contracts` benchmarks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cargo_graywork::main(cargo_graywork::Runner::Graywork, std::env::args_os())
}
