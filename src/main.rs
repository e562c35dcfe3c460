use clap::Parser;

/// Validating a large organization allocates hundreds of thousands of small strings and maps;
/// mimalloc makes that markedly cheaper than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
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
