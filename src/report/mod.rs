//! Output formats: the JSON bodies shared by the CLI and the HTTP API, the
//! human-readable tables, the analysis report and the CI formats.

pub mod analysis;
pub mod baseline;
pub mod ci;
pub mod diff;
pub mod errors;
pub mod gate;
pub mod github;
pub mod issue;
pub mod junit;
pub mod known;
pub mod markdown;
pub mod run;
pub mod sarif;
