//! The connector daemon with the test-only identity source compiled in, for process-level
//! end-to-end tests (signals, restarts). Never shipped.

fn main() -> std::process::ExitCode {
    rmsc_connectord::main_entry()
}
