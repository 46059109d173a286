use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::builder::Styles;
use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};
use snag::cli::Cli;
use snag::sanitize;

fn main() -> ExitCode {
    let cli = match parse_command_line() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    snag::commands::main(cli)
}

/// The command line, or the exit code of clap's answer instead of one.
/// Help and version are printed as clap prints them (exit 0). clap's errors
/// repeat what was typed, so they are rendered without styling and printed
/// through the sanitizer, with clap's exit code (2 for usage errors).
fn parse_command_line() -> Result<Cli, ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut command = Cli::command().styles(Styles::plain());
    let parsed = command
        .try_get_matches_from_mut(&args)
        .and_then(|mut matches| {
            Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
        });
    let error = match parsed {
        Ok(cli) => return Ok(cli),
        Err(error) => error,
    };
    let code = ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        // Help repeats nothing that was typed: clap prints it, styled on a
        // terminal.
        let styled = Cli::command().try_get_matches_from(&args).err();
        let _ = styled.as_ref().unwrap_or(&error).print();
        return Err(code);
    }
    // With plain styles, the rendering holds no escape sequence of clap's:
    // any left came from the arguments, and the sanitizer shows them.
    let text = error.render().ansi().to_string();
    let _ = std::io::stderr().write_all(sanitize::lines(&text).as_bytes());
    Err(code)
}
