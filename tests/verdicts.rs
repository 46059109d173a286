//! The reference parser's verdict on syntax errors, end to end through the
//! engine: every grammar gap named in the design gets `grammar_gap` and its
//! construct, really broken files get `invalid_source`, and the verdict
//! never changes what the file yields.

mod support;

use std::path::Path;

use snag::index::discover::SourceFile;
use snag::index::fingerprint::fingerprint;
use snag::index::language::FileKind;
use snag::index::outcome::{ErrorType, FileError, Outcome, Verdict, primary_problem};
use snag::index::process::{FileProcessor, FileReport, ProcessSettings};

fn process_with(settings: ProcessSettings, dir: &Path, name: &str, text: &str) -> FileReport {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    let file = SourceFile {
        kind: FileKind::for_path(&path).unwrap(),
        path,
        rel_path: name.to_owned(),
    };
    FileProcessor::new(settings).process(&file)
}

fn process(name: &str, text: &str) -> FileReport {
    let dir = tempfile::tempdir().unwrap();
    process_with(ProcessSettings::default(), dir.path(), name, text)
}

fn parsing_error(report: &FileReport) -> &FileError {
    report
        .errors
        .iter()
        .find(|e| e.error_type == ErrorType::ParsingError)
        .unwrap_or_else(|| panic!("tree-sitter flags {}: {report:#?}", report.rel_path))
}

/// The grammar gaps the design lists, one hand-written case each, and the
/// construct each must be named as.
const GAPS: &[(&str, &str, &str)] = &[
    (
        "variance.ts",
        "export interface Producer<out T> {\n  make(): T;\n}\nexport interface Both<in out T> {\n  f(x: T): T;\n}\n",
        "variance annotation on a type parameter",
    ),
    (
        "call-signature.ts",
        "export interface Factory {\n  name: string\n  <T>(value: T): T\n}\n",
        "generic call signature in an interface",
    ),
    (
        "import-type.ts",
        "export let things: import(\"./things\").Thing[] = [];\n",
        "`import()` type with `[]` or indexed access",
    ),
    (
        "global.d.ts",
        "declare module \"plugin\" {\n  global {\n    interface Window {\n      plugin: number;\n    }\n  }\n}\n",
        "`global` block inside `declare module`",
    ),
    (
        "export-type-star.ts",
        "export type * from \"./types\";\nexport const version = 1;\n",
        "`export type *` re-export",
    ),
    (
        "using.ts",
        "const using = 1;\nconsole.log(using);\n",
        "`using` as an identifier",
    ),
    (
        "keyof-readonly.ts",
        "export type Index<T> = keyof readonly T[];\n",
        "`keyof` of a `readonly` array type",
    ),
    (
        "ampersand.tsx",
        "export const Title = () => <h1>Tom & Jerry</h1>;\n",
        "`&` in JSX text",
    ),
];

#[test]
fn every_listed_grammar_gap_is_a_gap_with_its_construct() {
    for (name, text, construct) in GAPS {
        let report = process(name, text);
        let error = parsing_error(&report);
        let verdict = error.verdict.as_ref().expect("a verdict");
        assert_eq!(
            verdict.verdict,
            Verdict::GrammarGap,
            "{name}: {}",
            verdict.describe()
        );
        assert_eq!(error.construct, *construct, "{name}");
        assert_eq!(
            verdict.reference.construct.as_deref(),
            Some(*construct),
            "{name}"
        );
        assert!(verdict.reference.node.is_some(), "{name}");
        assert_eq!(
            fingerprint(error).title,
            format!("grammar gap: {construct}"),
            "{name}"
        );
    }
}

/// Gaps found on real packages beyond the design's list.
#[test]
fn more_gaps_found_on_real_code_are_named() {
    for (name, text, construct) in [
        (
            "import-args.d.ts",
            "export declare const a: import(\"./hkt\").Kind<'F', string>;\n",
            "`import()` type with type arguments",
        ),
        (
            "overloads.ts",
            "export interface Make {\n  (n: number): <A>(a: A) => Array<A>\n  /**\n   * doc\n   */\n  <A>(n: number, a: A): Array<A>\n}\n",
            "generic call signature in an interface",
        ),
    ] {
        let report = process(name, text);
        let error = parsing_error(&report);
        let verdict = error.verdict.as_ref().expect("a verdict");
        assert_eq!(
            verdict.verdict,
            Verdict::GrammarGap,
            "{name}: {}",
            verdict.describe()
        );
        assert_eq!(error.construct, construct, "{name}");
    }
}

#[test]
fn the_same_gap_in_different_files_is_one_group() {
    let a = process(
        "a.ts",
        "export interface A<in T> {\n  take(x: T): void;\n}\n",
    );
    let b = process(
        "deep/b.ts",
        "import { x } from './x';\n\nexport class Box<out V> {\n  constructor(private v: V) {}\n  get(): V { return this.v; }\n}\n",
    );
    let (ea, eb) = (parsing_error(&a), parsing_error(&b));
    assert_ne!(ea.message, eb.message, "different symptoms");
    assert_eq!(fingerprint(ea), fingerprint(eb));
}

#[test]
fn broken_source_is_invalid_with_the_reference_message() {
    for (name, text, line) in [
        ("seed.ts", "class Foo { invalid syntax )))))", 1),
        (
            "missing-brace.ts",
            "export function ok() { return 1; }\n\nexport function bad( {\n  return 2;\n}\n",
            // The reference parser reads `{ return 2; }` as a destructuring
            // parameter and stumbles on the `2`.
            4,
        ),
        ("const.ts", "const = ;\n", 1),
        (
            "unclosed.tsx",
            "export const A = () => <div><span></div>;\n",
            1,
        ),
        (
            "types.d.ts",
            "export declare function f(: number): void;\n",
            1,
        ),
    ] {
        let report = process(name, text);
        let verdict = parsing_error(&report).verdict.as_ref().expect("a verdict");
        assert_eq!(
            verdict.verdict,
            Verdict::InvalidSource,
            "{name}: {}",
            verdict.describe()
        );
        let reference = &verdict.reference;
        assert!(
            reference.message.as_ref().is_some_and(|m| !m.is_empty()),
            "{name}"
        );
        assert_eq!(reference.line, Some(line), "{name}: {reference:?}");
        assert!(reference.column.is_some_and(|c| c >= 1), "{name}");
    }
}

#[test]
fn declaration_files_and_jsx_follow_their_extension() {
    // Bodiless declarations are valid in a .d.ts only; this one also has a
    // grammar gap, so tree-sitter flags it.
    let declarations = "export declare function f(): void;\nexport const x: number;\nexport type * from \"./t\";\n";
    let report = process("lib.d.ts", declarations);
    let verdict = parsing_error(&report).verdict.as_ref().unwrap();
    assert_eq!(
        verdict.verdict,
        Verdict::GrammarGap,
        "{}",
        verdict.describe()
    );

    // The same JSX gap is a gap in .tsx and .jsx, but broken in .ts, where
    // JSX is not allowed.
    let jsx = "export const Title = () => <h1>Tom & Jerry</h1>;\n";
    for (name, expected) in [
        ("a.tsx", Verdict::GrammarGap),
        ("a.jsx", Verdict::GrammarGap),
        ("a.js", Verdict::GrammarGap),
        ("a.ts", Verdict::InvalidSource),
    ] {
        let report = process(name, jsx);
        let verdict = parsing_error(&report).verdict.as_ref().unwrap();
        assert_eq!(verdict.verdict, expected, "{name}: {}", verdict.describe());
    }
}

#[test]
fn the_verdict_never_changes_outcome_or_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, &str)> = GAPS.iter().map(|(n, t, _)| (*n, *t)).collect();
    cases.extend([
        ("seed.ts", "class Foo { invalid syntax )))))"),
        (
            "partial.ts",
            "export function ok() { return 1; }\n\nexport function bad( {\n  return 2;\n}\n",
        ),
        (
            "valid.ts",
            "export function add(a: number, b: number) { return a + b; }\n",
        ),
    ]);
    let without = ProcessSettings {
        verdicts: false,
        ..Default::default()
    };
    for (name, text) in cases {
        let with = process_with(ProcessSettings::default(), dir.path(), name, text);
        let plain = process_with(without, dir.path(), name, text);
        assert_eq!(with.outcome, plain.outcome, "{name}");
        assert_eq!(with.chunks, plain.chunks, "{name}");
        assert_eq!(with.errors.len(), plain.errors.len(), "{name}");
        for (a, b) in with.errors.iter().zip(&plain.errors) {
            // The verdict may move the error to its primary problem; the
            // sites tree-sitter found stay as they were.
            assert_eq!(a.error_type, b.error_type, "{name}");
            assert_eq!(a.details.sites, b.details.sites, "{name}");
            assert!(b.verdict.is_none());
            if let Some(primary) = primary_problem(&a.details.problems) {
                assert_eq!(a.span, Some(primary.span), "{name}");
            }
        }
        let flagged = with
            .errors
            .iter()
            .any(|e| e.error_type == ErrorType::ParsingError);
        assert_eq!(
            flagged,
            with.errors.iter().any(|e| e.verdict.is_some()),
            "{name}"
        );
    }
}

#[test]
fn the_hostile_corpus_broken_files_are_all_invalid_source() {
    let dir = tempfile::tempdir().unwrap();
    let expected = support::hostile_corpus(dir.path());
    let mut processor = FileProcessor::new(ProcessSettings::default());
    let mut checked = 0;
    for case in expected.as_array().unwrap() {
        let Some(rel) = case["path"].as_str() else {
            continue;
        };
        let path = dir.path().join(rel);
        let Some(kind) = FileKind::for_path(&path) else {
            continue;
        };
        if case["outcomes"] == serde_json::json!(["excluded"]) {
            continue;
        }
        let report = processor.process(&SourceFile {
            kind,
            path,
            rel_path: rel.to_owned(),
        });
        for error in &report.errors {
            if error.error_type != ErrorType::ParsingError {
                assert!(error.verdict.is_none(), "{rel}");
                continue;
            }
            let verdict = error.verdict.as_ref().expect("a verdict");
            assert_eq!(
                verdict.verdict,
                Verdict::InvalidSource,
                "{rel}: {}",
                verdict.describe()
            );
            checked += 1;
        }
        if rel.starts_with("broken/") && report.outcome != Outcome::Skipped {
            assert!(
                report.errors.iter().any(|e| e.verdict.is_some()),
                "{rel} has a verdict"
            );
        }
    }
    assert!(checked >= 5, "{checked} broken files checked");
}

/// tree-sitter gives up on this whole file (its one site spans lines 1 to
/// 26); the problem is the generic call signature it cannot enter.
const WHOLE_FILE: &str = r#"/** Functions. */
import type { Kind } from "./kind.js"

export const twice: {
  /** As data-last. */
  <Last extends (...args: Array<any>) => any, First extends (...args: Array<any>) => any>(
    arity: Parameters<First>["length"],
    body: First
  ): Last & First
  /** Or decided by a predicate. */
  <Last extends (...args: Array<any>) => any, First extends (...args: Array<any>) => any>(
    isFirst: (args: IArguments) => boolean,
    body: First
  ): Last & First
} = function(arity, body) {
  return body
}

export const identity = <A>(a: A): A => a

export function pipe<A>(a: A): A {
  return a
}

export const one = 1
"#;

#[test]
fn a_whole_file_error_becomes_the_statement_that_fails() {
    let report = process("whole.ts", WHOLE_FILE);
    let error = parsing_error(&report);
    let whole = &error.details.sites[0];
    assert_eq!((whole.span.line, whole.span.end_line), (1, 26), "{whole:?}");
    let [problem] = error.details.problems.as_slice() else {
        panic!("one problem: {:?}", error.details.problems);
    };
    assert_eq!(problem.verdict, Verdict::GrammarGap);
    assert_eq!(
        problem.construct,
        "generic call signature in a type literal"
    );
    assert_eq!(problem.span.line, 6);
    assert_eq!(error.span.map(|s| s.line), Some(6));
    assert!(
        error.message.starts_with("6:3 grammar gap: "),
        "{}",
        error.message
    );
}
