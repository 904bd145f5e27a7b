//! `eps-translator demo`.
use std::process::ExitCode;

/// Runs the demo.
pub fn run() -> ExitCode {
    ExitCode::SUCCESS
}
