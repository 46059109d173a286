//! Grammars from elsewhere: `snag index --grammar DIR` builds a real
//! tree-sitter grammar from its sources (two released versions of
//! tree-sitter-typescript, from the cargo registry), `snag diff` compares
//! what they do on one corpus, and grammars that cannot be used stop the
//! command with one line and exit 2 before any run starts.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::{TestDb, count, snag, write_files};

/// Parses with 0.23.2 (the built-in version) but not with 0.21.2.
const FIXED: [(&str, &str); 2] = [
    ("src/decorated.ts", "@(foo.bar) class A {}\n"),
    (
        "src/imported.ts",
        "import data from \"./a.json\" assert { type: \"json\" };\n",
    ),
];
/// Parses with 0.21.2 but not with 0.23.2.
const BROKEN: (&str, &str) = (
    "src/accessor.ts",
    "abstract class X { protected abstract accessor y: number; }\n",
);
/// A gap in both versions.
const STILL: (&str, &str) = ("src/variance.ts", "type A<in out T> = T;\n");
const CLEAN: [(&str, &str); 2] = [
    ("src/clean.ts", "export const one = 1;\n"),
    ("src/view.tsx", "export const V = () => <div>{1}</div>;\n"),
];

fn corpus(root: &Path) {
    let mut files = vec![BROKEN, STILL];
    files.extend(FIXED);
    files.extend(CLEAN);
    write_files(root, &files);
}

/// tree-sitter-typescript's sources at `version`, from the cargo registry:
/// fetched there first (with cargo, as any dependency is) when missing.
fn typescript_sources(version: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let registry = home.join("registry").join("src");
    let find = || {
        std::fs::read_dir(&registry)
            .ok()?
            .flatten()
            .map(|index| {
                index
                    .path()
                    .join(format!("tree-sitter-typescript-{version}"))
            })
            .find(|dir| dir.join("typescript/src/parser.c").is_file())
    };
    if let Some(found) = find() {
        return found;
    }
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(project.path().join("src")).unwrap();
    std::fs::write(project.path().join("src/lib.rs"), "").unwrap();
    std::fs::write(
        project.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-grammar\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ntree-sitter-typescript = \"={version}\"\n"
        ),
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let fetched = std::process::Command::new(cargo)
        .arg("fetch")
        .current_dir(project.path())
        .output()
        .unwrap();
    assert!(
        fetched.status.success(),
        "cargo fetch of tree-sitter-typescript {version}: {}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    find().unwrap_or_else(|| panic!("tree-sitter-typescript {version} is not in {registry:?}"))
}

fn index(db: &TestDb, data: &Path, root: &Path, extra: &[&str]) -> Output {
    snag()
        .env("SNAG_DATA_DIR", data)
        .args(["--database-url", &db.url(), "index"])
        .arg(root)
        .args(["--repo", "corpus", "--format", "json"])
        .args(extra)
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn cached(data: &Path) -> Vec<(String, std::time::SystemTime)> {
    let Ok(entries) = std::fs::read_dir(data.join("grammars")) else {
        return Vec::new();
    };
    let mut libraries: Vec<_> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let modified = e.metadata().unwrap().modified().unwrap();
            (e.file_name().to_string_lossy().into_owned(), modified)
        })
        .collect();
    libraries.sort();
    libraries
}

fn paths(list: &Value) -> Vec<String> {
    let mut paths: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    paths.sort();
    paths
}

#[tokio::test(flavor = "multi_thread")]
async fn two_grammar_versions_built_from_source_compare_on_one_corpus() {
    let (old, new) = (typescript_sources("0.21.2"), typescript_sources("0.23.2"));
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let (root, data) = (tree.path().join("corpus"), tree.path().join("data"));
    corpus(&root);

    // The old grammar, built from its sources: both of its folders.
    let first = json(&index(
        &db,
        &data,
        &root,
        &["--grammar", old.to_str().unwrap()],
    ));
    let run_old = first["run_id"].as_i64().unwrap();
    let grammars = first["grammars"].as_array().unwrap();
    for (grammar, name) in grammars.iter().zip(["typescript", "tsx"]) {
        assert_eq!(grammar["name"], name);
        assert_eq!(grammar["version"], "0.21.2");
        assert_eq!(grammar["origin"], "source");
        assert_eq!(grammar["hash"].as_str().unwrap().len(), 16, "{grammar}");
    }
    assert_eq!(
        grammars[2]["origin"], "built_in",
        "JavaScript stays built in"
    );
    let built = cached(&data);
    assert_eq!(built.len(), 2, "{built:?}");
    let typescript_hash = grammars[0]["hash"].as_str().unwrap();
    assert!(
        built
            .iter()
            .any(|(name, _)| name.starts_with(&format!("typescript-{typescript_hash}."))),
        "the cache is keyed by the sources' hash: {built:?}"
    );
    // Three files fail with the old grammar, and the run says how much.
    let files = &first["files"];
    assert_eq!(
        files["failed"].as_u64().unwrap() + files["partial"].as_u64().unwrap(),
        3
    );
    let health = &first["parse_health"];
    assert_eq!(health["files_with_syntax_errors"], 3);
    assert!(health["error_bytes"].as_u64().unwrap() > 0, "{health}");
    // The run row records the grammars as the output said.
    let recorded = count(
        &db,
        &format!(
            "SELECT count(*) FROM index_runs WHERE run_id = {run_old} \
             AND grammar_versions #>> '{{grammars,typescript,hash}}' = '{typescript_hash}'"
        ),
    )
    .await;
    assert_eq!(recorded, 1);

    // Each file's parse health.
    let files = snag()
        .args([
            "--database-url",
            &db.url(),
            "files",
            "corpus",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let files: Value = serde_json::from_slice(&files.stdout).unwrap();
    let file = |path: &str| {
        files["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file_path"] == path)
            .unwrap_or_else(|| panic!("{files}"))
            .clone()
    };
    assert!(
        file(FIXED[0].0)["error_bytes"].as_i64().unwrap() > 0,
        "{files}"
    );
    assert_eq!(file(CLEAN[0].0)["error_bytes"], 0, "{files}");
    assert_eq!(file(CLEAN[0].0)["missing_nodes"], 0, "{files}");

    // The gap as an upstream issue, reduced with the grammar of its run,
    // built again from its sources once the cache is gone.
    std::fs::remove_dir_all(data.join("grammars")).unwrap();
    let errors = snag()
        .env("SNAG_DATA_DIR", &data)
        .args([
            "--database-url",
            &db.url(),
            "errors",
            "corpus",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let errors: Value = serde_json::from_slice(&errors.stdout).unwrap();
    let decorated = errors["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file_path"] == FIXED[0].0)
        .unwrap_or_else(|| panic!("{errors}"));
    let issue = snag()
        .env("SNAG_DATA_DIR", &data)
        .args(["--database-url", &db.url(), "repro"])
        .arg(decorated["fingerprint"].as_str().unwrap())
        .args(["--format", "issue"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&issue.stdout);
    assert_eq!(
        issue.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&issue.stderr)
    );
    assert!(
        text.starts_with("### tree-sitter-typescript: valid code is not parsed (decorator)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "tree-sitter-typescript 0.21.2 (built from source, hash `{typescript_hash}`)"
        )),
        "{text}"
    );
    assert!(text.contains("- **Construct:** decorator"), "{text}");
    assert!(text.contains("oxc_parser"), "{text}");
    assert!(text.contains("```ts\n@("), "the reduced input: {text}");
    assert!(
        text.contains("#### tree-sitter's tree\n\n```query\n(program"),
        "{text}"
    );
    assert!(text.contains("(ERROR"), "{text}");
    assert_eq!(cached(&data).len(), 2, "built again: {:?}", cached(&data));

    // The library the build cached, loaded as a prebuilt one: the same
    // results, its origin a library.
    let library = tree.path().join("typescript.so");
    std::fs::copy(data.join("grammars").join(&built[1].0), &library).unwrap();
    let loaded = json(&index(
        &db,
        &data,
        &root,
        &["--grammar-lib", library.to_str().unwrap(), "--full"],
    ));
    assert_eq!(loaded["grammars"][0]["origin"], "library", "{loaded}");
    assert_eq!(loaded["grammars"][0]["name"], "typescript");
    assert_eq!(
        loaded["grammars"][1]["origin"], "built_in",
        "tsx stays built in"
    );
    assert_eq!(loaded["parse_health"], first["parse_health"]);

    // The new grammar: every file is parsed again, none kept.
    let second = json(&index(
        &db,
        &data,
        &root,
        &["--grammar", new.to_str().unwrap()],
    ));
    let run_new = second["run_id"].as_i64().unwrap();
    assert_eq!(second["files"]["reused"], 0);
    assert_eq!(second["grammars"][0]["version"], "0.23.2");
    assert_eq!(cached(&data).len(), 4);

    // What the new grammar fixed and broke, file by file and per group.
    let diff = snag()
        .args(["--database-url", &db.url(), "diff"])
        .args([run_old.to_string(), run_new.to_string()])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(diff.status.code(), Some(0));
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(diff["counts"]["fixed"], 2);
    assert_eq!(diff["counts"]["newly_failing"], 1);
    assert_eq!(diff["counts"]["still_failing"], 1);
    let groups = diff["groups"].as_array().unwrap();
    let fixed: Vec<String> = groups.iter().flat_map(|g| paths(&g["fixed"])).collect();
    let newly: Vec<String> = groups
        .iter()
        .flat_map(|g| paths(&g["newly_failing"]))
        .collect();
    let mut fixed = fixed;
    fixed.sort();
    assert_eq!(fixed, ["src/decorated.ts", "src/imported.ts"]);
    assert_eq!(newly, [BROKEN.0]);
    let constructs = diff["constructs"].as_array().unwrap();
    let totals = |key: &str| {
        constructs
            .iter()
            .map(|c| c[key].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(
        (totals("fixed"), totals("new"), totals("unchanged")),
        (2, 1, 1)
    );
    assert!(
        constructs
            .iter()
            .any(|c| c["title"] == "grammar gap: decorator" && c["fixed"] == 1),
        "{constructs:?}"
    );
    assert!(
        diff["from"]["grammar"]
            .as_str()
            .unwrap()
            .contains("typescript 0.21.2 (source")
    );
    assert!(
        diff["to"]["grammar"]
            .as_str()
            .unwrap()
            .contains("typescript 0.23.2 (source")
    );
    let (was, now) = (
        diff["from"]["parse_health"]["error_bytes"]
            .as_u64()
            .unwrap(),
        diff["to"]["parse_health"]["error_bytes"].as_u64().unwrap(),
    );
    assert!(now < was, "fewer bytes in ERROR nodes: {was} → {now}");
    let text = snag()
        .args(["--database-url", &db.url(), "diff"])
        .args([run_old.to_string(), run_new.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("grammars  run "), "{text}");
    assert!(text.contains("grammar gap: decorator"), "{text}");

    // The old grammar again: loaded from the cache, not built.
    let before = cached(&data);
    let third = json(&index(
        &db,
        &data,
        &root,
        &["--grammar", old.to_str().unwrap()],
    ));
    assert_eq!(cached(&data), before, "nothing was built again");
    assert_eq!(third["grammars"][0]["hash"], typescript_hash);
    assert_eq!(third["parse_health"], first["parse_health"]);
    // Once more: every file keeps its result, and its parse health counts.
    let fourth = json(&index(
        &db,
        &data,
        &root,
        &["--grammar", old.to_str().unwrap()],
    ));
    assert_eq!(fourth["files"]["reused"], fourth["files"]["total"]);
    assert_eq!(fourth["parse_health"], first["parse_health"]);
}

/// A grammar folder named `name` whose parser is `parser`.
fn fake_grammar(dir: &Path, name: &str, parser: &str) {
    write_files(
        dir,
        &[
            ("src/parser.c", parser),
            ("src/grammar.json", &format!("{{\"name\": \"{name}\"}}")),
        ],
    );
}

/// A shared library made by the C compiler from `source`.
fn library(dir: &Path, source: &str) -> PathBuf {
    let c = dir.join("lib.c");
    std::fs::write(&c, source).unwrap();
    let out = dir.join(format!("lib.{}", std::env::consts::DLL_EXTENSION));
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let built = std::process::Command::new(cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grammar_that_cannot_be_used_stops_with_one_line_and_exit_2() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let (root, data) = (tree.path().join("corpus"), tree.path().join("data"));
    corpus(&root);
    let grammars = tree.path().join("grammars");
    fake_grammar(&grammars.join("broken"), "typescript", "int broken = ;\n");
    fake_grammar(&grammars.join("python"), "python", "int x;\n");
    std::fs::create_dir_all(grammars.join("empty/docs")).unwrap();
    let abi = library(
        &grammars,
        "static const unsigned language[1024] = {99};\n\
         const void *tree_sitter_typescript(void) { return language; }\n",
    );
    let nothing = tree.path().join("nothing");
    std::fs::create_dir_all(&nothing).unwrap();
    let no_symbols = library(&nothing, "int unrelated(void) { return 1; }\n");

    let cases: [(&str, PathBuf, &str); 6] = [
        (
            "--grammar",
            tree.path().join("missing"),
            "cannot open the grammar folder",
        ),
        (
            "--grammar",
            grammars.join("empty"),
            "not a tree-sitter grammar: no src/parser.c",
        ),
        (
            "--grammar",
            grammars.join("python"),
            "the grammar `python` parses no language snag indexes",
        ),
        (
            "--grammar",
            grammars.join("broken"),
            "cannot build the typescript grammar: ",
        ),
        (
            "--grammar-lib",
            abi,
            "generated for tree-sitter ABI 99; this snag reads ABI 13 to 15",
        ),
        (
            "--grammar-lib",
            no_symbols,
            "exports none of tree_sitter_typescript",
        ),
    ];
    for (option, path, said) in cases {
        let output = index(&db, &data, &root, &[option, path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{option} {path:?}: {stderr}");
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("loading the grammars"))
            .collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].starts_with("snag: "), "{stderr}");
        assert!(lines[0].contains(said), "{option} {path:?}: {stderr}");
    }
    // The broken build's line is the compiler's error, and it left nothing
    // in the cache.
    let broken = index(
        &db,
        &data,
        &root,
        &["--grammar", grammars.join("broken").to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("error"), "{stderr}");
    assert!(cached(&data).is_empty(), "{:?}", cached(&data));
    assert_eq!(count(&db, "SELECT count(*) FROM index_runs").await, 0);
}
