//! Shrinking a grammar gap to the snippet a maintainer pastes into a bug
//! report: delta debugging (ddmin) over lines, then over tokens, keeping
//! only cuts on which tree-sitter still reports an error and the reference
//! parser still accepts the text (and, for a known gap, still names the
//! same construct). Cutting tokens never joins two lines: line breaks
//! decide automatic semicolons, and the reference parser is lenient about
//! some separators TypeScript requires. Deterministic, and bounded in
//! time: when the time is up, the smallest text found so far is returned.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::reference::{self, INLINE_NESTING, Judgement, SourceKind};
use crate::index::grammar::Grammar;
use crate::index::syntax::{first_site_bytes, tree_depth_beyond};

#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    #[error("cannot load the {0} grammar: {1}")]
    Grammar(String, String),
    #[error("tree-sitter parses this text without errors: there is nothing to reproduce")]
    NoSyntaxError,
    #[error("the reference parser does not accept this text ({0}): it is not a grammar gap")]
    NotAGap(String),
}

/// The smallest text found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reproduction {
    pub text: String,
    pub original_bytes: usize,
    /// The construct the reference parser names at the error.
    pub construct: String,
    /// Candidate texts parsed by both parsers.
    pub tests: usize,
    /// False when time ran out before the text was 1-minimal.
    pub complete: bool,
    pub elapsed: Duration,
}

/// Cuts `text` down while it stays a grammar gap; `rel_path` decides how
/// both parsers read it.
pub fn minimize(
    text: &str,
    rel_path: &str,
    grammar: &Grammar,
    time_budget: Duration,
) -> Result<Reproduction, ReproError> {
    let started = Instant::now();
    let mut oracle = Oracle::new(rel_path, grammar, started + time_budget)?;
    let construct = oracle.judge(text)?;
    oracle.target = construct.known.then(|| construct.name.clone());

    let lines = split_lines(text);
    let (lines, lines_done) = ddmin(lines, &mut oracle, |u: &[String]| u.concat());
    let tokens = split_tokens(&lines.concat());
    let (tokens, tokens_done) = ddmin(tokens, &mut oracle, render_tokens);
    let (tokens, sweep_done) = remove_runs(tokens, &mut oracle, render_tokens);
    let result = render_tokens(&tokens);
    Ok(Reproduction {
        construct: match oracle.judge(&result) {
            Ok(c) => c.name,
            Err(_) => construct.name,
        },
        text: result,
        original_bytes: text.len(),
        tests: oracle.tests,
        complete: lines_done && tokens_done && sweep_done,
        elapsed: started.elapsed(),
    })
}

/// Says whether a candidate is still the same grammar gap, remembering
/// answers so no text is parsed twice.
struct Oracle {
    parser: tree_sitter::Parser,
    kind: SourceKind,
    deadline: Instant,
    /// The construct every candidate must keep, for known gaps.
    target: Option<String>,
    seen: HashMap<u64, bool>,
    tests: usize,
}

impl Oracle {
    fn new(rel_path: &str, grammar: &Grammar, deadline: Instant) -> Result<Self, ReproError> {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&grammar.language)
            .map_err(|e| ReproError::Grammar(grammar.info.label(), e.to_string()))?;
        Ok(Oracle {
            parser,
            kind: SourceKind::for_path(rel_path),
            deadline,
            target: None,
            seen: HashMap::new(),
            tests: 0,
        })
    }

    fn out_of_time(&self) -> bool {
        Instant::now() >= self.deadline
    }

    fn judge(&mut self, text: &str) -> Result<super::construct::NamedConstruct, ReproError> {
        self.tests += 1;
        let tree = self
            .parser
            .parse(text, None)
            .ok_or(ReproError::NoSyntaxError)?;
        let site = first_site_bytes(&tree).ok_or(ReproError::NoSyntaxError)?;
        let left = self.deadline.saturating_duration_since(Instant::now());
        let budget = left.max(Duration::from_secs(1));
        match reference::check(
            text,
            self.kind,
            &[site],
            tree_depth_beyond(&tree, INLINE_NESTING),
            budget,
        ) {
            Judgement::Accepted { mut constructs, .. } => {
                constructs.pop().ok_or(ReproError::NoSyntaxError)
            }
            Judgement::Rejected(d) => Err(ReproError::NotAGap(format!(
                "{}:{} {}",
                d.line, d.column, d.message
            ))),
            Judgement::Undecided(reason) => Err(ReproError::NotAGap(reason)),
        }
    }

    fn still_a_gap(&mut self, text: &str) -> bool {
        if text.trim().is_empty() {
            return false;
        }
        let key = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
        if let Some(answer) = self.seen.get(&key) {
            return *answer;
        }
        let answer = match self.judge(text) {
            Ok(construct) => self.target.as_ref().is_none_or(|t| *t == construct.name),
            Err(_) => false,
        };
        self.seen.insert(key, answer);
        answer
    }
}

/// Zeller's ddmin: removes ever smaller chunks while the oracle agrees.
/// Returns the units left and whether it finished (1-minimal) in time.
fn ddmin<T: Clone>(
    mut units: Vec<T>,
    oracle: &mut Oracle,
    render: impl Fn(&[T]) -> String,
) -> (Vec<T>, bool) {
    let mut granularity = 2usize;
    while units.len() >= 2 {
        if oracle.out_of_time() {
            return (units, false);
        }
        let chunk = units.len().div_ceil(granularity);
        let chunks: Vec<std::ops::Range<usize>> = (0..units.len())
            .step_by(chunk)
            .map(|start| start..(start + chunk).min(units.len()))
            .collect();
        let mut reduced = false;
        // A chunk alone first (big steps), then everything but a chunk.
        for range in &chunks {
            if chunks.len() > 2 && oracle.still_a_gap(&render(&units[range.clone()])) {
                units = units[range.clone()].to_vec();
                granularity = 2;
                reduced = true;
                break;
            }
        }
        if !reduced {
            for range in &chunks {
                if oracle.out_of_time() {
                    return (units, false);
                }
                let complement: Vec<T> = units[..range.start]
                    .iter()
                    .chain(&units[range.end..])
                    .cloned()
                    .collect();
                if oracle.still_a_gap(&render(&complement)) {
                    units = complement;
                    granularity = (granularity - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if granularity >= units.len() {
                break;
            }
            granularity = (granularity * 2).min(units.len());
        }
    }
    (units, true)
}

/// Units ddmin keeps only because they must go together but straddle its
/// chunk boundaries (a whole `function f(){}`): tries removing every run of
/// consecutive units, longest first. Quadratic, so only on short results.
fn remove_runs<T: Clone>(
    mut units: Vec<T>,
    oracle: &mut Oracle,
    render: impl Fn(&[T]) -> String,
) -> (Vec<T>, bool) {
    const MAX_UNITS: usize = 300;
    if units.len() > MAX_UNITS {
        return (units, true);
    }
    'restart: loop {
        for length in (1..units.len()).rev() {
            for start in 0..=units.len() - length {
                if oracle.out_of_time() {
                    return (units, false);
                }
                let rest: Vec<T> = units[..start]
                    .iter()
                    .chain(&units[start + length..])
                    .cloned()
                    .collect();
                if oracle.still_a_gap(&render(&rest)) {
                    units = rest;
                    continue 'restart;
                }
            }
        }
        return (units, true);
    }
}

/// Lines, each with its line break.
fn split_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_owned).collect()
}

/// A token of the text and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    line: usize,
    /// The token with the spaces after it on its line; the first token of
    /// a line also carries the line's indentation.
    text: String,
}

/// Tokens: identifiers and numbers, string literals, single punctuation
/// characters.
fn split_tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut tokens: Vec<Token> = Vec::new();
    let (mut i, mut line) = (0, 0);
    let mut indent = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            indent.clear();
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            match tokens.last_mut() {
                Some(last) if last.line == line => last.text.push(c),
                _ => indent.push(c),
            }
            i += 1;
            continue;
        }
        let mut current = std::mem::take(&mut indent);
        if word(c) {
            while i < chars.len() && word(chars[i]) {
                current.push(chars[i]);
                i += 1;
            }
        } else if matches!(c, '"' | '\'') {
            current.push(c);
            i += 1;
            while i < chars.len() && chars[i] != c && chars[i] != '\n' {
                if chars[i] == '\\' && i + 1 < chars.len() && chars[i + 1] != '\n' {
                    current.push(chars[i]);
                    i += 1;
                }
                current.push(chars[i]);
                i += 1;
            }
            if i < chars.len() && chars[i] == c {
                current.push(c);
                i += 1;
            }
        } else {
            current.push(c);
            i += 1;
        }
        tokens.push(Token {
            line,
            text: current,
        });
    }
    tokens
}

/// The text of some tokens: tokens of different lines stay on different
/// lines (runs of line breaks become one), so no cut joins two lines.
fn render_tokens(tokens: &[Token]) -> String {
    let mut out = String::new();
    let mut previous: Option<usize> = None;
    for token in tokens {
        if previous.is_some_and(|line| line != token.line) {
            let kept = out.trim_end_matches([' ', '\t']).len();
            out.truncate(kept);
            out.push('\n');
        }
        out.push_str(&token.text);
        previous = Some(token.line);
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::grammar::Grammars;
    use crate::index::language::Language;

    fn ts() -> &'static Grammar {
        Grammars::built_in().get(Language::TypeScript)
    }

    #[test]
    fn tokens_keep_their_lines_and_strings_stay_whole() {
        let tokens = split_tokens("  let a = \"x y\";\n\nf(a)");
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            ["  let ", "a ", "= ", "\"x y\"", ";", "f", "(", "a", ")"]
        );
        assert_eq!(render_tokens(&tokens), "  let a = \"x y\";\nf(a)\n");
        // Cutting the tokens between two lines keeps the line break.
        let cut = [tokens[0].clone(), tokens[6].clone()];
        assert_eq!(render_tokens(&cut), "  let\n(\n");
    }

    #[test]
    fn a_known_gap_shrinks_to_a_few_tokens() {
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!(
                "export function f{i}(a: number): number {{\n  return a * {i};\n}}\n"
            ));
        }
        text.push_str("export interface Box<in out T> {\n  value: T;\n}\n");
        for i in 0..40 {
            text.push_str(&format!("export const c{i} = {i};\n"));
        }
        let repro = minimize(&text, "a.ts", ts(), Duration::from_secs(60)).expect("a grammar gap");
        assert!(repro.complete);
        assert_eq!(repro.construct, "variance annotation on a type parameter");
        assert!(repro.text.len() <= 30, "{:?}", repro.text);
        assert!(
            repro.text.contains("in out") || repro.text.contains("out"),
            "{:?}",
            repro.text
        );
        // Deterministic.
        let again = minimize(&text, "a.ts", ts(), Duration::from_secs(60)).expect("a grammar gap");
        assert_eq!(again.text, repro.text);
    }

    #[test]
    fn broken_source_is_not_a_gap() {
        let error = minimize(
            "class Foo { invalid syntax )))))",
            "a.ts",
            ts(),
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert!(matches!(error, ReproError::NotAGap(_)), "{error}");
        let clean = minimize("let a = 1;\n", "a.ts", ts(), Duration::from_secs(10));
        assert!(matches!(clean, Err(ReproError::NoSyntaxError)));
    }
}
