//! The `standardise` command: parses the command line and hands over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    standardise::cli::main(standardise::cli::Cli::parse())
}
