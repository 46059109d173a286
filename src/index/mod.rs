//! The indexing engine: discover -> read/decode -> parse -> chunk -> outcome.
//! No terminal and no SQL in here.

pub mod chunk;
pub mod component;
pub mod decode;
pub mod details;
pub mod discover;
pub mod fingerprint;
pub mod grammar;
pub mod language;
pub mod lines;
pub mod outcome;
pub mod panics;
pub mod pipeline;
pub mod problems;
pub mod process;
pub mod progress;
pub mod reuse;
pub mod syntax;
pub mod verdict;
