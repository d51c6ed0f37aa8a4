//! The `tributary` command: opens the designer, or runs one of the headless commands.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// Words are allocated on one thread and freed on another all the time; mimalloc keeps
/// that cheap where the system allocator serialises on it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            cli::print_error(&error);
            ExitCode::FAILURE
        }
    }
}
