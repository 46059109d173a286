//! Output formats: the JSON bodies shared by the CLI and the HTTP API, the
//! human-readable tables and the analysis report.

pub mod analysis;
pub mod errors;
pub mod markdown;
pub mod run;
