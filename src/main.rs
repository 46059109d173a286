use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = snag::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SNAG_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("snag: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(snag::commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // Every error of the library already says its cause in its message.
            eprintln!("snag: {e}");
            ExitCode::from(2)
        }
    }
}
