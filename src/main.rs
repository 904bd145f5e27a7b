use clap::Parser;
use std::process::ExitCode;

// Translation allocates many small nodes; mimalloc serves them at a fraction of the
// system allocator's cost (measured: convert of the largest corpus Send -15%; under the
// service's load glibc malloc was ~30% of all CPU: docs/service.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    eps_translator::cli::run(eps_translator::cli::Cli::parse())
}
