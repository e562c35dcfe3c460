use clap::Parser;

/// Validating a large organization allocates hundreds of thousands of small strings and maps;
/// mimalloc makes that markedly cheaper than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    restore_sigpipe();
    let cli = match orgctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` print to stdout and succeed; a usage error exits 1, never
            // 2, which `plan --detailed-exitcode` and `drift` reserve for "there are changes".
            let _ = error.print();
            return if error.use_stderr() {
                orgctl::commands::ExitStatus::Failure.into()
            } else {
                orgctl::commands::ExitStatus::Success.into()
            };
        }
    };
    orgctl::commands::run(cli).into()
}

/// Rust ignores SIGPIPE, so a write to a closed pipe (`orgctl rules | head -1`) panics; a command
/// line tool ends quietly instead, as the reader has all it wanted.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default, at the start of `main`, before any
    // other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
