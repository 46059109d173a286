//! Output formats: the JSON bodies shared by the CLI and the HTTP API, and
//! the human-readable tables.

pub mod errors;
pub mod run;
