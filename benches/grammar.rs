//! A grammar built from source (`snag index --grammar DIR`) against the
//! built-in one, measured in one run.
//!
//! ```sh
//! scripts/fetch-corpus.sh ~/.cache/snag-corpus   # real npm packages
//! cargo bench --bench grammar -- ~/.cache/snag-corpus
//! cargo bench --bench grammar -- ~/.cache/snag-corpus --grammar path/to/tree-sitter-typescript
//! ```
//!
//! The grammar defaults to the sources of the tree-sitter-typescript
//! release snag is built with, from the cargo registry: the same parser,
//! so any difference is the cost of building and loading it at run time.
//! Reports the grammar's build time with an empty cache and its load time
//! from the cache, then, on the corpus's TypeScript and TSX files (the
//! languages the grammar replaces), each figure the best of several rounds
//! taken in turns: tree-sitter's parse of in-memory text with each
//! grammar, and snag's per-file engine (read, parse, syntax errors and
//! verdicts, chunks) on one thread with each.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use snag::index::discover::{Discovery, DiscoveryOptions, SourceFile};
use snag::index::grammar::{GrammarSource, Grammars};
use snag::index::language::Language;
use snag::index::process::{FileProcessor, ProcessSettings};

/// Parse figures are the best of this many rounds; the engine's of half.
const ROUNDS: usize = 6;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let corpus = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            anyhow::anyhow!("usage: cargo bench --bench grammar -- CORPUS [--grammar DIR]")
        })?;
    let grammar_dir = match args.iter().position(|a| a == "--grammar") {
        Some(i) => PathBuf::from(
            args.get(i + 1)
                .ok_or_else(|| anyhow::anyhow!("--grammar DIR"))?,
        ),
        None => registry_sources("0.23.2")?,
    };

    let cache = tempfile::tempdir()?;
    let sources = [GrammarSource::Folder(grammar_dir.clone())];
    let started = Instant::now();
    let loaded = Grammars::load(&sources, cache.path())?;
    let cold = started.elapsed();
    let started = Instant::now();
    Grammars::load(&sources, cache.path())?;
    let cached = started.elapsed();
    println!("grammar {}", grammar_dir.display());
    for language in [Language::TypeScript, Language::Tsx] {
        println!("  {}", loaded.get(language).info.label());
    }
    println!(
        "build with an empty cache {:.2} s; load from the cache {:.1} ms",
        cold.as_secs_f64(),
        cached.as_secs_f64() * 1e3
    );

    let files = typescript_files(&corpus)?;
    let texts: Vec<(Language, String)> = files
        .iter()
        .filter_map(|f| Some((f.kind.language()?, std::fs::read_to_string(&f.path).ok()?)))
        .collect();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    println!(
        "corpus {}: {} TypeScript/TSX files, {:.1} MB",
        corpus.display(),
        texts.len(),
        bytes as f64 / 1e6
    );

    let (mut built_in, mut runtime) = (Duration::MAX, Duration::MAX);
    for round in 0..ROUNDS {
        // Taken in turns, first one then the other, so drift hits both.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for use_loaded in order {
            let grammars = if use_loaded {
                loaded
            } else {
                Grammars::built_in()
            };
            let took = parse_all(grammars, &texts);
            let best = if use_loaded {
                &mut runtime
            } else {
                &mut built_in
            };
            *best = (*best).min(took);
        }
    }
    report("tree-sitter parse", built_in, runtime, bytes);

    let (mut built_in, mut runtime) = (Duration::MAX, Duration::MAX);
    for round in 0..ROUNDS / 2 {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for use_loaded in order {
            let settings = ProcessSettings {
                grammars: if use_loaded {
                    loaded
                } else {
                    Grammars::built_in()
                },
                ..ProcessSettings::default()
            };
            let took = process_all(settings, &files);
            let best = if use_loaded {
                &mut runtime
            } else {
                &mut built_in
            };
            *best = (*best).min(took);
        }
    }
    report("snag's engine, one thread", built_in, runtime, bytes);
    Ok(())
}

fn report(what: &str, built_in: Duration, runtime: Duration, bytes: usize) {
    let mb_s = |d: Duration| bytes as f64 / 1e6 / d.as_secs_f64();
    println!(
        "{what}: built-in {:.3} s ({:.1} MB/s), built from source {:.3} s ({:.1} MB/s): {:+.1}%",
        built_in.as_secs_f64(),
        mb_s(built_in),
        runtime.as_secs_f64(),
        mb_s(runtime),
        100.0 * (runtime.as_secs_f64() / built_in.as_secs_f64() - 1.0)
    );
}

fn parse_all(grammars: &Grammars, texts: &[(Language, String)]) -> Duration {
    let mut parsers: Vec<(Language, tree_sitter::Parser)> = Vec::new();
    for language in [Language::TypeScript, Language::Tsx] {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(grammars.language(language)).unwrap();
        parsers.push((language, parser));
    }
    let started = Instant::now();
    let mut nodes = 0usize;
    for (language, text) in texts {
        let parser = &mut parsers.iter_mut().find(|(l, _)| l == language).unwrap().1;
        let tree = parser.parse(text, None).unwrap();
        nodes += tree.root_node().child_count();
    }
    let took = started.elapsed();
    std::hint::black_box(nodes);
    took
}

fn process_all(settings: ProcessSettings, files: &[SourceFile]) -> Duration {
    let mut processor = FileProcessor::new(settings);
    let started = Instant::now();
    let mut chunks = 0usize;
    for file in files {
        chunks += processor.process(file).chunks.len();
    }
    let took = started.elapsed();
    std::hint::black_box(chunks);
    took
}

fn typescript_files(corpus: &Path) -> anyhow::Result<Vec<SourceFile>> {
    let discovery = Discovery::new(corpus, &DiscoveryOptions::default())?;
    let mut files = Vec::new();
    discovery.walk(|item| {
        if let Ok(file) = item
            && matches!(
                file.kind.language(),
                Some(Language::TypeScript | Language::Tsx)
            )
        {
            files.push(file);
        }
        true
    });
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    Ok(files)
}

/// tree-sitter-typescript's sources at `version` in the cargo registry.
fn registry_sources(version: &str) -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or_else(|| anyhow::anyhow!("neither CARGO_HOME nor HOME is set"))?;
    let registry = home.join("registry").join("src");
    std::fs::read_dir(&registry)?
        .flatten()
        .map(|index| {
            index
                .path()
                .join(format!("tree-sitter-typescript-{version}"))
        })
        .find(|dir| dir.join("typescript/src/parser.c").is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "tree-sitter-typescript {version} is not in {}: pass --grammar DIR",
                registry.display()
            )
        })
}
