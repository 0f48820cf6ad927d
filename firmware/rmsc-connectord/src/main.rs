//! `rmsconnector`: the connector daemon (`serve`) and its administration commands.

fn main() -> std::process::ExitCode {
    rmsc_connectord::main_entry()
}
