use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = sori::cli::Cli::parse();
    match sori::cli::run_headless(&cli) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => match sori::gui::run(cli.file, cli.notes) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("sori: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Err(e) => {
            // One line: the error and its causes, no backtrace.
            let msg = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("sori: {msg}");
            std::process::ExitCode::FAILURE
        }
    }
}
