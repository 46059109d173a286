//! How the original service (Python) writes values its clients read: times
//! as `datetime.isoformat()` gives them, percentages as `round(x, 2)`,
//! lists as `repr`, directories as `pathlib` normalises them. The seed
//! endpoints use these so their bodies read exactly as the original's.

use chrono::{DateTime, Utc};

/// `datetime.isoformat()` of a naive UTC time: `2025-11-03T06:39:32.123456`,
/// or without the fraction when it is zero.
pub fn naive_time(time: DateTime<Utc>) -> String {
    let naive = time.naive_utc();
    if naive.and_utc().timestamp_subsec_micros() == 0 {
        naive.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        naive.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

/// `datetime.now(timezone.utc).isoformat()`: the naive form and `+00:00`.
pub fn utc_time(time: DateTime<Utc>) -> String {
    format!("{}+00:00", naive_time(time))
}

/// Python's `round(x, 2)`: the decimal nearest to the float's exact value,
/// an exact tie to even. Rust's formatting rounds the exact value the same way.
pub fn round2(x: f64) -> f64 {
    format!("{x:.2}").parse().unwrap_or(x)
}

/// `repr()` of a list of strings: `['.ts', '.js']`; a string holding `'`
/// (and no `"`) is quoted with `"`, as Python does.
pub fn list_repr(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| str_repr(item)).collect();
    format!("[{}]", quoted.join(", "))
}

fn str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `str(Path(directory))`: repeated and trailing `/` and `.` parts dropped,
/// `..` kept, nothing resolved; `.` for an empty path.
pub fn pure_path(directory: &str) -> String {
    let absolute = directory.starts_with('/');
    // POSIX keeps exactly two leading slashes; three or more are one.
    let prefix = if directory.starts_with("//") && !directory.starts_with("///") {
        "//"
    } else if absolute {
        "/"
    } else {
        ""
    };
    let parts: Vec<&str> = directory
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    match (prefix, parts.is_empty()) {
        ("", true) => ".".to_owned(),
        (prefix, _) => format!("{prefix}{}", parts.join("/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_isoformat() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        assert_eq!(
            naive_time(at("2025-11-03T06:39:32.123Z")),
            "2025-11-03T06:39:32.123000"
        );
        assert_eq!(
            naive_time(at("2025-11-03T06:39:32.000120Z")),
            "2025-11-03T06:39:32.000120"
        );
        assert_eq!(
            naive_time(at("2025-11-03T06:39:32Z")),
            "2025-11-03T06:39:32"
        );
        assert_eq!(
            utc_time(at("2025-11-03T08:39:32.5+02:00")),
            "2025-11-03T06:39:32.500000+00:00"
        );
    }

    #[test]
    fn rounding_is_pythons() {
        // Values Python's round(p / t * 100.0, 2) gives.
        let percent = |p: u32, t: u32| round2(f64::from(p) / f64::from(t) * 100.0);
        assert_eq!(percent(1, 32), 3.12);
        assert_eq!(percent(1, 800), 0.12);
        assert_eq!(percent(2, 3), 66.67);
        assert_eq!(percent(180, 261), 68.97);
        assert_eq!(percent(259, 261), 99.23);
        assert_eq!(percent(1, 2), 50.0);
        assert_eq!(percent(3, 8), 37.5);
    }

    #[test]
    fn lists_read_as_repr() {
        let list =
            |items: &[&str]| list_repr(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(list(&[".ts", ".js"]), "['.ts', '.js']");
        assert_eq!(list(&[]), "[]");
        assert_eq!(list(&[".vue", "it's"]), "['.vue', \"it's\"]");
        assert_eq!(list(&["a'\"b", "c\\d"]), "['a\\'\"b', 'c\\\\d']");
    }

    #[test]
    fn paths_normalise_as_pathlib() {
        for (given, path) in [
            ("/srv/code/", "/srv/code"),
            ("/srv//code/./web", "/srv/code/web"),
            ("/srv/../code", "/srv/../code"),
            ("code_test", "code_test"),
            ("./code", "code"),
            ("", "."),
            ("/", "/"),
            ("//srv", "//srv"),
            ("///srv", "/srv"),
        ] {
            assert_eq!(pure_path(given), path, "{given}");
        }
    }
}
