//! Fingerprints the chunker's source: chunks stored by one build are reused
//! by a re-run only if the code that cut them is the same (see
//! `index::chunk::source_key`), so a changed chunker re-chunks everything
//! without anyone remembering to bump a version.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

const CHUNKER: &str = "src/index/chunk.rs";
const CHUNKER_MODULES: &str = "src/index/chunk";

fn main() {
    println!("cargo:rerun-if-changed={CHUNKER}");
    println!("cargo:rerun-if-changed={CHUNKER_MODULES}");
    let mut files = vec![PathBuf::from(CHUNKER)];
    if let Ok(entries) = std::fs::read_dir(CHUNKER_MODULES) {
        files.extend(entries.flatten().map(|e| e.path()));
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in &files {
        file.hash(&mut hasher);
        read(file).hash(&mut hasher);
    }
    println!(
        "cargo:rustc-env=SNAG_CHUNKER_DIGEST={:016x}",
        hasher.finish()
    );
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}
