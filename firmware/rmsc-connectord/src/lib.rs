//! The connector daemon as a library: configuration, start-up and shutdown, and the
//! command-line interface. `main` only calls [`main_entry`], so tests can run the same daemon
//! from their own binary (with the test-only identity source compiled in).

mod caller_tls;
pub mod cli;
pub mod config;
mod daemon;
mod web;

pub use config::Config;
pub use daemon::{run, Running};

/// Parses the command line and runs the chosen command; the exit code says how it went.
pub fn main_entry() -> std::process::ExitCode {
    cli::main()
}
