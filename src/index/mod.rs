//! The indexing engine: discover -> read/decode -> parse -> chunk -> outcome.
//! No terminal and no SQL in here.

pub mod chunk;
pub mod language;
pub mod outcome;
