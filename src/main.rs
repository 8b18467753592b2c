// On Windows a release build is a windowed program, so opening Sori from Explorer shows no
// console; started from a terminal, it writes to that terminal (see `attach_console`).
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use clap::Parser;

/// Windows: output goes to the console of the terminal Sori was started from, if any (the
/// command line, `--help` and `--version` work as on other systems).
#[cfg(windows)]
fn attach_console() {
    const ATTACH_PARENT_PROCESS: u32 = u32::MAX;
    unsafe extern "system" {
        fn AttachConsole(process_id: u32) -> i32;
    }
    // Without a parent console this fails, and there is nothing to write to anyway.
    // SAFETY: a kernel32 call with a constant argument and no pointers.
    let _ = unsafe { AttachConsole(ATTACH_PARENT_PROCESS) };
}

fn main() -> std::process::ExitCode {
    #[cfg(windows)]
    attach_console();
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
