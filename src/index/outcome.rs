//! The engine's vocabulary for what happened to a file: outcomes, skip
//! reasons and error types. Every other layer speaks these words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a file failed. The database's CHECK constraint admits exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    ParsingError,
    EncodingError,
    ChunkingError,
    EmbeddingError,
    PersistenceError,
    IoError,
    TimeoutError,
    UnexpectedError,
}

impl ErrorType {
    pub const ALL: [ErrorType; 8] = [
        ErrorType::ParsingError,
        ErrorType::EncodingError,
        ErrorType::ChunkingError,
        ErrorType::EmbeddingError,
        ErrorType::PersistenceError,
        ErrorType::IoError,
        ErrorType::TimeoutError,
        ErrorType::UnexpectedError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::ParsingError => "parsing_error",
            ErrorType::EncodingError => "encoding_error",
            ErrorType::ChunkingError => "chunking_error",
            ErrorType::EmbeddingError => "embedding_error",
            ErrorType::PersistenceError => "persistence_error",
            ErrorType::IoError => "io_error",
            ErrorType::TimeoutError => "timeout_error",
            ErrorType::UnexpectedError => "unexpected_error",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error type name that is not one of [`ErrorType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error type `{name}`; expected one of: {}", ErrorType::ALL.map(ErrorType::as_str).join(", "))]
pub struct UnknownErrorType {
    pub name: String,
}

impl FromStr for ErrorType {
    type Err = UnknownErrorType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ErrorType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| UnknownErrorType {
                name: name.to_owned(),
            })
    }
}

impl TryFrom<String> for ErrorType {
    type Error = UnknownErrorType;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in ErrorType::ALL {
            assert_eq!(t.as_str().parse::<ErrorType>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = "syntax_error".parse::<ErrorType>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`syntax_error`"), "{text}");
        assert!(
            text.contains("parsing_error") && text.contains("unexpected_error"),
            "{text}"
        );
    }
}
