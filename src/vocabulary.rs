//! Enums whose variants are words: stored in PostgreSQL, typed on the
//! command line, sent over the API. [`vocabulary!`] gives each one, from a
//! single list of its words, `ALL`, `as_str`, `Display`, `FromStr` and
//! `TryFrom<String>` (which sqlx uses to read a row).

/// A word that is not one of a vocabulary's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`; expected one of: {}", expected.join(", "))]
pub struct UnknownWord {
    /// What the words name: "error type", "outcome", ...
    pub kind: &'static str,
    pub name: String,
    pub expected: &'static [&'static str],
}

/// A nullable column of words as read from the database: the field of a
/// row is `#[sqlx(try_from = "NullableWord")] Option<Verdict>`.
#[derive(Debug, Clone, sqlx::Type)]
#[sqlx(transparent)]
pub struct NullableWord(Option<String>);

impl<T: std::str::FromStr<Err = UnknownWord>> TryFrom<NullableWord> for Option<T> {
    type Error = UnknownWord;

    fn try_from(value: NullableWord) -> Result<Self, Self::Error> {
        value.0.map(|word| word.parse()).transpose()
    }
}

/// `vocabulary!(Outcome, "outcome", { Indexed => "indexed", ... })`: every
/// variant with its word, in the order `ALL` lists them.
macro_rules! vocabulary {
    ($type:ident, $kind:literal, { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: [$type; [$($word),+].len()] = [$($type::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $word),+
                }
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $type {
            type Err = $crate::vocabulary::UnknownWord;

            fn from_str(name: &str) -> Result<Self, Self::Err> {
                $type::ALL
                    .into_iter()
                    .find(|word| word.as_str() == name)
                    .ok_or_else(|| $crate::vocabulary::UnknownWord {
                        kind: $kind,
                        name: name.to_owned(),
                        expected: &[$($word),+],
                    })
            }
        }

        impl TryFrom<String> for $type {
            type Error = $crate::vocabulary::UnknownWord;

            fn try_from(name: String) -> Result<Self, Self::Error> {
                name.parse()
            }
        }
    };
}

pub(crate) use vocabulary;

#[cfg(test)]
mod tests {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Colour {
        Red,
        DarkBlue,
    }

    vocabulary!(Colour, "colour", { Red => "red", DarkBlue => "dark_blue" });

    #[test]
    fn words_round_trip_and_strangers_are_named() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
        for colour in Colour::ALL {
            assert_eq!(colour.to_string().parse::<Colour>(), Ok(colour));
        }
        assert_eq!(
            Colour::try_from("dark_blue".to_owned()),
            Ok(Colour::DarkBlue)
        );
        let unknown = "green".parse::<Colour>().unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "unknown colour `green`; expected one of: red, dark_blue"
        );
    }
}
