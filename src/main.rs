use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    eps_translator::cli::run(eps_translator::cli::Cli::parse())
}
