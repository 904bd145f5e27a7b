use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: under the service's load the core's many small
/// allocations made glibc malloc ~30% of all CPU time (perf, `loadtest --rpc prepare`); see
/// docs/service.md for the before/after figures. The library does not choose an allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    eps_translator::cli::run(eps_translator::cli::Cli::parse())
}
