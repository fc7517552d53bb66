//! `cargo xtask`: this workspace's runner for the graywork tool, the same CLI that
//! `cargo graywork` is in any other workspace.

/// Parsing crates allocates per token; mimalloc makes that markedly faster than the system
/// allocator (see the `check-contracts` benchmarks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cargo_graywork::main(cargo_graywork::Runner::Xtask, std::env::args_os())
}
