use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = orgctl::cli::Cli::parse();
    orgctl::commands::run(cli).into()
}
