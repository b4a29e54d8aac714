//! The plain `athanor` binary: the command line of `athanor::cli` without an application's
//! models (every command but `migrate generate` and `migrate check`, which need them: an
//! application runs those from its own binary with `athanor::cli::run(athanor::cli::app!(), &base)`,
//! which shows the application's name, version and about text).

fn main() -> std::process::ExitCode {
    athanor::cli::run_with(None)
}
