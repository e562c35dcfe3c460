use clap::Parser;

/// Validating a large organization allocates hundreds of thousands of small strings and maps;
/// mimalloc makes that markedly cheaper than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = orgctl::cli::Cli::parse();
    orgctl::commands::run(cli).into()
}
