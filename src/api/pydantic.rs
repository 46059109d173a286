//! The original service (FastAPI on Pydantic 2) validates requests in lax
//! mode and words every rejection its own way. Clients parse those 422
//! bodies, so snag reproduces the rules it can observe: how text becomes an
//! integer or a boolean, what a body field of each shape accepts, and how
//! Python's `json` module describes a syntax error.

use serde_json::{Map, Value};

use super::error::FieldError;

/// The shape of a body field, as the original model declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `str`: a JSON string only (numbers are not turned into text).
    Text,
    /// `bool`, lax: also `"yes"`, `"off"`, `1`, `0.0`, ...
    Flag,
    /// `List[str]`.
    TextList,
    /// One of a closed set of words (an enum).
    Choice(&'static [&'static str]),
}

/// One field of a body model.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    /// Required fields have no default: leaving one out is `missing`.
    pub required: bool,
    /// `Optional[...]`: null is accepted.
    pub nullable: bool,
}

impl Field {
    pub const fn required(name: &'static str, shape: Shape) -> Self {
        Field {
            name,
            shape,
            required: true,
            nullable: false,
        }
    }

    /// A field with a default, which null does not stand for.
    pub const fn defaulted(name: &'static str, shape: Shape) -> Self {
        Field {
            name,
            shape,
            required: false,
            nullable: false,
        }
    }

    /// `Optional[...] = None`.
    pub const fn optional(name: &'static str, shape: Shape) -> Self {
        Field {
            name,
            shape,
            required: false,
            nullable: true,
        }
    }
}

/// Checks a JSON body against `fields` in their order, reporting every
/// problem as Pydantic does, and gives the body back with lax values made
/// strict (`"yes"` becomes `true`), ready for serde.
pub fn validate_body(body: Value, fields: &[Field]) -> Result<Value, Vec<FieldError>> {
    let Value::Object(mut object) = body else {
        return Err(vec![FieldError::at(
            "model_attributes_type",
            vec!["body".into()],
            "Input should be a valid dictionary or object to extract fields from",
            body,
        )]);
    };
    let mut errors = Vec::new();
    for field in fields {
        let loc = || vec![Value::from("body"), Value::from(field.name)];
        match object.get_mut(field.name) {
            None if field.required => errors.push(FieldError::at(
                "missing",
                loc(),
                "Field required",
                Value::Object(object.clone()),
            )),
            None => {}
            Some(Value::Null) if field.nullable => {}
            Some(value) => match checked(value, field.shape, loc()) {
                Ok(strict) => *value = strict,
                Err(mut problems) => errors.append(&mut problems),
            },
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(object))
    } else {
        Err(errors)
    }
}

fn checked(value: &Value, shape: Shape, loc: Vec<Value>) -> Result<Value, Vec<FieldError>> {
    let wrong = |kind: &str, msg: &str| vec![FieldError::at(kind, loc.clone(), msg, value.clone())];
    match shape {
        Shape::Text => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(wrong("string_type", "Input should be a valid string")),
        },
        Shape::Flag => match lax_bool(value) {
            Some(flag) => Ok(Value::Bool(flag)),
            None if matches!(value, Value::String(_) | Value::Number(_)) => Err(wrong(
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
            )),
            None => Err(wrong("bool_type", "Input should be a valid boolean")),
        },
        Shape::TextList => {
            let Value::Array(items) = value else {
                return Err(wrong("list_type", "Input should be a valid list"));
            };
            let errors: Vec<FieldError> = items
                .iter()
                .enumerate()
                .filter(|(_, item)| !item.is_string())
                .map(|(i, item)| {
                    let mut at = loc.clone();
                    at.push(Value::from(i));
                    FieldError::at(
                        "string_type",
                        at,
                        "Input should be a valid string",
                        item.clone(),
                    )
                })
                .collect();
            if errors.is_empty() {
                Ok(value.clone())
            } else {
                Err(errors)
            }
        }
        Shape::Choice(words) => match value.as_str() {
            Some(word) if words.contains(&word) => Ok(value.clone()),
            _ => {
                let expected = one_of(words);
                Err(vec![
                    FieldError::at(
                        "enum",
                        loc.clone(),
                        format!("Input should be {expected}"),
                        value.clone(),
                    )
                    .with_ctx(serde_json::json!({ "expected": expected })),
                ])
            }
        },
    }
}

/// `'a', 'b' or 'c'`, as Pydantic lists an enum's values.
fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Pydantic's lax booleans.
fn lax_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => {
            let x = n.as_f64()?;
            (x == 0.0 || x == 1.0).then_some(x == 1.0)
        }
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

/// An integer read from text as Pydantic does in lax mode: surrounding
/// whitespace, a sign, `_` between digits and a zero fraction (`5.0`) are
/// accepted. Python integers have no bound; values beyond `i64` saturate,
/// which keeps every range check right.
pub fn lax_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = match digits.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => digits,
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let mut n: i64 = 0;
    for d in digits.bytes().filter(u8::is_ascii_digit) {
        let d = i64::from(d - b'0');
        n = n.saturating_mul(10).saturating_add(d);
    }
    Some(if negative { n.saturating_neg() } else { n })
}

/// Why Python's `json.loads` (3.12) rejects `text`, and at which character,
/// for the `json_invalid` error FastAPI answers with. `None` when Python
/// would accept it (snag's parser is stricter about `NaN` and the like).
pub fn json_decode_error(text: &str) -> Option<(usize, &'static str)> {
    let chars: Vec<char> = text.chars().collect();
    let scanner = Scanner { chars: &chars };
    let at = scanner.skip_space(0);
    let end = match scanner.value(at) {
        Ok(end) => end,
        Err(problem) => return Some(problem),
    };
    let end = scanner.skip_space(end);
    (end != chars.len()).then_some((end, "Extra data"))
}

type Scan = Result<usize, (usize, &'static str)>;

/// A transcription of CPython's `json.scanner` and `json.decoder` error
/// paths: only where each stops and what it says.
struct Scanner<'a> {
    chars: &'a [char],
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn skip_space(&self, mut i: usize) -> usize {
        while matches!(self.at(i), Some(' ' | '\t' | '\n' | '\r')) {
            i += 1;
        }
        i
    }

    fn value(&self, i: usize) -> Scan {
        const EXPECTING_VALUE: &str = "Expecting value";
        match self.at(i) {
            Some('"') => self.string(i + 1),
            Some('{') => self.object(i + 1),
            Some('[') => self.array(i + 1),
            Some(_) => {
                for word in ["null", "true", "false", "NaN", "Infinity", "-Infinity"] {
                    if self.starts_with(i, word) {
                        return Ok(i + word.len());
                    }
                }
                self.number(i).ok_or((i, EXPECTING_VALUE))
            }
            None => Err((i, EXPECTING_VALUE)),
        }
    }

    fn starts_with(&self, i: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, c)| self.at(i + k) == Some(c))
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`
    fn number(&self, start: usize) -> Option<usize> {
        let digits = |mut i: usize| {
            let from = i;
            while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            (i > from).then_some(i)
        };
        let mut i = start;
        if self.at(i) == Some('-') {
            i += 1;
        }
        i = match self.at(i) {
            Some('0') => i + 1,
            Some('1'..='9') => digits(i)?,
            _ => return None,
        };
        if self.at(i) == Some('.')
            && let Some(after) = digits(i + 1)
        {
            i = after;
        }
        if matches!(self.at(i), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.at(i + 1), Some('+' | '-')));
            if let Some(after) = digits(i + 1 + sign) {
                i = after;
            }
        }
        Some(i)
    }

    /// After the opening quote at `start - 1`.
    fn string(&self, start: usize) -> Scan {
        let unterminated = (start - 1, "Unterminated string starting at");
        let mut i = start;
        loop {
            match self.at(i) {
                None => return Err(unterminated),
                Some('"') => return Ok(i + 1),
                Some('\\') => match self.at(i + 1) {
                    None => return Err(unterminated),
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => i += 2,
                    Some('u') => {
                        let hex = (i + 2..i + 6)
                            .all(|k| self.at(k).is_some_and(|c| c.is_ascii_hexdigit()));
                        if !hex {
                            return Err((i + 1, "Invalid \\uXXXX escape"));
                        }
                        i += 6;
                    }
                    Some(_) => return Err((i, "Invalid \\escape")),
                },
                Some(c) if (c as u32) < 0x20 => return Err((i, "Invalid control character at")),
                Some(_) => i += 1,
            }
        }
    }

    /// After the `{`.
    fn object(&self, start: usize) -> Scan {
        const PROPERTY: &str = "Expecting property name enclosed in double quotes";
        let mut i = self.skip_space(start);
        if self.at(i) == Some('}') {
            return Ok(i + 1);
        }
        loop {
            if self.at(i) != Some('"') {
                return Err((i, PROPERTY));
            }
            i = self.skip_space(self.string(i + 1)?);
            if self.at(i) != Some(':') {
                return Err((i, "Expecting ':' delimiter"));
            }
            i = self.skip_space(i + 1);
            i = self.skip_space(self.value(i)?);
            match self.at(i) {
                Some('}') => return Ok(i + 1),
                Some(',') => i = self.skip_space(i + 1),
                _ => return Err((i, "Expecting ',' delimiter")),
            }
        }
    }

    /// After the `[`.
    fn array(&self, start: usize) -> Scan {
        let mut i = self.skip_space(start);
        if self.at(i) == Some(']') {
            return Ok(i + 1);
        }
        loop {
            i = self.skip_space(self.value(i)?);
            match self.at(i) {
                Some(']') => return Ok(i + 1),
                Some(',') => i = self.skip_space(i + 1),
                _ => return Err((i, "Expecting ',' delimiter")),
            }
        }
    }
}

/// The body of a `json_invalid` answer: where and why, the body as `{}`.
pub fn json_invalid(text: &str) -> FieldError {
    let (position, error) = json_decode_error(text).unwrap_or((0, "Expecting value"));
    FieldError::at(
        "json_invalid",
        vec!["body".into(), position.into()],
        "JSON decode error",
        Value::Object(Map::new()),
    )
    .with_ctx(serde_json::json!({ "error": error }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const START: &[Field] = &[
        Field::required("directory", Shape::Text),
        Field::required("repository", Shape::Text),
        Field::defaulted("extensions", Shape::TextList),
        Field::defaulted("include_tests", Shape::Flag),
    ];

    fn problems(body: Value) -> Value {
        serde_json::to_value(validate_body(body, START).unwrap_err()).unwrap()
    }

    #[test]
    fn an_empty_body_lacks_both_required_fields() {
        assert_eq!(
            problems(json!({})),
            json!([
                {"type": "missing", "loc": ["body", "directory"], "msg": "Field required", "input": {}},
                {"type": "missing", "loc": ["body", "repository"], "msg": "Field required", "input": {}}
            ])
        );
    }

    #[test]
    fn wrong_types_are_all_reported_in_model_order() {
        let body = json!({"directory": 5, "repository": null, "extensions": "ts", "include_tests": "maybe"});
        assert_eq!(
            problems(body),
            json!([
                {"type": "string_type", "loc": ["body", "directory"], "msg": "Input should be a valid string", "input": 5},
                {"type": "string_type", "loc": ["body", "repository"], "msg": "Input should be a valid string", "input": null},
                {"type": "list_type", "loc": ["body", "extensions"], "msg": "Input should be a valid list", "input": "ts"},
                {"type": "bool_parsing", "loc": ["body", "include_tests"], "msg": "Input should be a valid boolean, unable to interpret input", "input": "maybe"}
            ])
        );
        let items =
            problems(json!({"directory": "d", "repository": "r", "extensions": [".ts", 1]}));
        assert_eq!(items[0]["loc"], json!(["body", "extensions", 1]));
        let list = problems(json!([1]));
        assert_eq!(list[0]["type"], "model_attributes_type");
        assert_eq!(list[0]["input"], json!([1]));
    }

    #[test]
    fn lax_values_become_strict() {
        for (given, flag) in [
            (json!("yes"), true),
            (json!("Off"), false),
            (json!(1), true),
            (json!(0.0), false),
        ] {
            let body = json!({"directory": "d", "repository": "r", "include_tests": given});
            assert_eq!(validate_body(body, START).unwrap()["include_tests"], flag);
        }
        let body = json!({"directory": "d", "repository": "r", "include_tests": [true]});
        assert_eq!(problems(body)[0]["type"], "bool_type");
    }

    #[test]
    fn enums_list_their_words() {
        let fields = [Field::optional(
            "status",
            Shape::Choice(&["open", "resolved", "ignored"]),
        )];
        let error = validate_body(json!({"status": "done"}), &fields).unwrap_err();
        assert_eq!(
            error[0].msg,
            "Input should be 'open', 'resolved' or 'ignored'"
        );
        assert!(validate_body(json!({"status": null}), &fields).is_ok());
    }

    #[test]
    fn integers_read_as_pydantic_reads_them() {
        for (text, n) in [
            ("5", 5),
            (" 5 ", 5),
            ("+5", 5),
            ("5.0", 5),
            ("1_0", 10),
            ("-1", -1),
            ("5.", 5),
        ] {
            assert_eq!(lax_int(text), Some(n), "{text}");
        }
        for text in ["", "abc", "5.5", "1e3", "_1", "1__0", "1_", "--1", "0x10"] {
            assert_eq!(lax_int(text), None, "{text}");
        }
        assert_eq!(lax_int("99999999999999999999999"), Some(i64::MAX));
        assert_eq!(lax_int("-99999999999999999999999"), Some(-i64::MAX));
    }

    #[test]
    fn json_errors_say_what_python_says_where_it_says_it() {
        let cases = [
            (
                "{bad",
                1,
                "Expecting property name enclosed in double quotes",
            ),
            ("{\"directory\": ", 14, "Expecting value"),
            ("{\"a\"", 4, "Expecting ':' delimiter"),
            ("{\"a\": 1", 7, "Expecting ',' delimiter"),
            (
                "{\"a\": 1,}",
                8,
                "Expecting property name enclosed in double quotes",
            ),
            ("[1,]", 3, "Expecting value"),
            ("{} x", 3, "Extra data"),
            ("\"abc", 0, "Unterminated string starting at"),
            ("\"a\nb\"", 2, "Invalid control character at"),
            ("\"\\x\"", 1, "Invalid \\escape"),
            ("{\"é\": tru}", 6, "Expecting value"),
        ];
        for (text, position, message) in cases {
            assert_eq!(
                json_decode_error(text),
                Some((position, message)),
                "{text:?}"
            );
        }
        assert_eq!(json_decode_error("{\"a\": [1, 2.5e3, null]}"), None);
        let error = serde_json::to_value(json_invalid("{bad")).unwrap();
        assert_eq!(
            error,
            json!({"type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error", "input": {}, "ctx": {"error": "Expecting property name enclosed in double quotes"}})
        );
    }
}
