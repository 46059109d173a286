//! Numbers as people read them in snag's text: counts that agree with their
//! noun (`1 file`, `2 files`) and durations in the units that fit them
//! (`850 ms`, `4.2 s`, `22 min 8 s`, `1 h 3 min`). Every text output uses
//! these, so the same figure reads the same everywhere.

use std::fmt::Display;
use std::time::Duration;

/// `noun` in the number `n` asks for: the singular for exactly one, else
/// the regular plural (`file` → `files`, `grammar gap` → `grammar gaps`).
pub fn noun<N: Copy + PartialEq + From<u8>>(n: N, singular: &str) -> String {
    if n == N::from(1) {
        singular.to_owned()
    } else {
        format!("{singular}s")
    }
}

/// `n` and its noun: `1 file`, `0 files`, `12 errors`.
pub fn count<N: Copy + PartialEq + From<u8> + Display>(n: N, singular: &str) -> String {
    format!("{n} {}", noun(n, singular))
}

/// Whether `name` is close enough to `typed` to be what was meant: the
/// same but for case, one holding the other, or a few letters apart
/// (typos, swapped letters).
pub fn close_to(name: &str, typed: &str) -> bool {
    let (name, typed) = (name.to_lowercase(), typed.to_lowercase());
    if name == typed {
        return true;
    }
    let shorter = name.chars().count().min(typed.chars().count());
    if shorter >= 3 && (name.contains(&typed) || typed.contains(&name)) {
        return true;
    }
    strsim::damerau_levenshtein(&name, &typed) <= (shorter / 4).max(1)
}

/// Alternatives as a sentence says them: `a`, `a or b`, `a, b or c`.
pub fn either(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A duration in the largest units that keep it exact enough to read:
/// milliseconds below a second (`850 ms`), tenths of a second below a
/// minute (`4.2 s`), minutes and seconds below an hour (`22 min 8 s`,
/// `3 min`), then hours and minutes (`1 h 3 min`, `2 h`). Each step rounds
/// to its smallest unit, and a value that rounds up to the next unit is
/// shown in it (59.96 s is `1 min`).
pub fn duration(d: Duration) -> String {
    let millis = d.as_millis();
    if millis < 1000 {
        return format!("{millis} ms");
    }
    let tenths = (millis + 50) / 100;
    if tenths < 600 {
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let seconds = (millis + 500) / 1000;
    if seconds < 3600 {
        return match (seconds / 60, seconds % 60) {
            (minutes, 0) => format!("{minutes} min"),
            (minutes, seconds) => format!("{minutes} min {seconds} s"),
        };
    }
    let minutes = (millis + 30_000) / 60_000;
    match (minutes / 60, minutes % 60) {
        (hours, 0) => format!("{hours} h"),
        (hours, minutes) => format!("{hours} h {minutes} min"),
    }
}

/// [`duration`] of a number of milliseconds.
pub fn millis(ms: u64) -> String {
    duration(Duration::from_millis(ms))
}

/// A size in bytes, in the unit that keeps it short: `812 B`, `4.1 KB`,
/// `12.3 MB`, `1.02 GB` (decimal units).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value < 10.0 { 2 } else { 1 };
    format!("{value:.decimals$} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_typos_cases_and_parts() {
        for (name, typed) in [
            ("web", "wbe"),
            ("web", "WEB"),
            ("cv-generator", "cv-generater"),
            ("cv-generator", "generator"),
            ("api", "apj"),
        ] {
            assert!(close_to(name, typed), "{name} / {typed}");
        }
        for (name, typed) in [("web", "api"), ("cv-generator", "mnemo"), ("ab", "xy")] {
            assert!(!close_to(name, typed), "{name} / {typed}");
        }
        let names = ["`a`", "`b`", "`c`"].map(String::from);
        assert_eq!(either(&names[..1]), "`a`");
        assert_eq!(either(&names[..2]), "`a` or `b`");
        assert_eq!(either(&names), "`a`, `b` or `c`");
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1u64, "file"), "1 file");
        assert_eq!(count(2u64, "file"), "2 files");
        assert_eq!(count(0u64, "file"), "0 files");
        assert_eq!(count(1i64, "grammar gap"), "1 grammar gap");
        assert_eq!(count(3i32, "grammar gap"), "3 grammar gaps");
        assert_eq!(count(1usize, "error"), "1 error");
        assert_eq!(noun(1u64, "parse"), "parse");
        assert_eq!(noun(1378u64, "parse"), "parses");
    }

    #[test]
    fn sizes_keep_three_figures() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(4_100), "4.10 KB");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(bytes(999_999), "1.00 MB");
        assert_eq!(bytes(1_020_000_000), "1.02 GB");
    }

    fn ms(n: u64) -> String {
        millis(n)
    }

    #[test]
    fn short_durations_in_milliseconds() {
        assert_eq!(ms(0), "0 ms");
        assert_eq!(ms(850), "850 ms");
        assert_eq!(ms(999), "999 ms");
        assert_eq!(duration(Duration::from_micros(999_999)), "999 ms");
    }

    #[test]
    fn seconds_with_a_tenth_below_a_minute() {
        assert_eq!(ms(1000), "1.0 s");
        assert_eq!(ms(4200), "4.2 s");
        assert_eq!(ms(4249), "4.2 s");
        assert_eq!(ms(4250), "4.3 s");
        assert_eq!(ms(59_949), "59.9 s");
    }

    #[test]
    fn minutes_and_seconds_below_an_hour() {
        assert_eq!(ms(59_950), "1 min");
        assert_eq!(ms(60_000), "1 min");
        assert_eq!(ms(61_000), "1 min 1 s");
        assert_eq!(ms(1_328_200), "22 min 8 s");
        assert_eq!(ms(3_599_499), "59 min 59 s");
    }

    #[test]
    fn hours_and_minutes_beyond() {
        assert_eq!(ms(3_599_500), "1 h");
        assert_eq!(ms(3_600_000), "1 h");
        assert_eq!(ms(3_780_000), "1 h 3 min");
        assert_eq!(ms(3_809_999), "1 h 3 min");
        assert_eq!(ms(3_810_000), "1 h 4 min");
        assert_eq!(ms(26 * 3_600_000 + 5 * 60_000), "26 h 5 min");
    }
}
