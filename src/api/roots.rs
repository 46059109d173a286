//! Which directories the start endpoint may index: only those inside one of
//! the allowed roots once both are canonical, so `..` and symlinks cannot
//! lead outside.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("allowed root {}: {source}", path.display())]
    BadRoot {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Directory not found or invalid: {0}")]
    NotADirectory(String),
    #[error("Directory {0} is outside the directories this server may index (see --allow-root)")]
    Outside(String),
}

/// Canonical directories under which indexing is allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedRoots {
    roots: Vec<PathBuf>,
}

impl AllowedRoots {
    /// Canonicalizes each root; a root that does not exist is an error.
    pub fn new(roots: &[PathBuf]) -> Result<Self, RootError> {
        let roots = roots
            .iter()
            .map(|path| {
                std::fs::canonicalize(path).map_err(|source| RootError::BadRoot {
                    path: path.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AllowedRoots { roots })
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The canonical form of `directory` when it is a directory inside one
    /// of the roots. A path outside every root is [`RootError::Outside`]
    /// whether or not it exists, so that the answer says nothing about what
    /// lies outside.
    pub fn admit(&self, directory: &str) -> Result<PathBuf, RootError> {
        let inside = |path: &Path| self.roots.iter().any(|root| path.starts_with(root));
        if !inside(&leads_to(Path::new(directory))) {
            return Err(RootError::Outside(directory.to_owned()));
        }
        let canonical = std::fs::canonicalize(Path::new(directory))
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| RootError::NotADirectory(directory.to_owned()))?;
        if inside(&canonical) {
            Ok(canonical)
        } else {
            Err(RootError::Outside(directory.to_owned()))
        }
    }
}

/// Where `path` leads, existing or not: each component is resolved as the
/// system would (symlinks followed) for as long as the path so far exists,
/// and the rest, which does not exist, is applied as written (`..` goes up).
fn leads_to(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(dir) => dir.join(path),
            Err(_) => path.to_path_buf(),
        }
    };
    let mut resolved = PathBuf::from("/");
    let mut exists = true;
    for component in absolute.components() {
        match component {
            Component::Prefix(_) | Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(name) => {
                resolved.push(name);
                if exists {
                    match std::fs::canonicalize(&resolved) {
                        Ok(real) => resolved = real,
                        Err(_) => exists = false,
                    }
                }
            }
        }
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_outside_and_symlink_escapes() {
        let base = tempfile::tempdir().unwrap();
        let allowed = base.path().join("allowed");
        let outside = base.path().join("outside");
        std::fs::create_dir_all(allowed.join("repo")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, allowed.join("escape")).unwrap();
        let roots = AllowedRoots::new(std::slice::from_ref(&allowed)).unwrap();

        let inside = allowed.join("repo");
        assert!(roots.admit(inside.to_str().unwrap()).is_ok());
        assert!(roots.admit(allowed.to_str().unwrap()).is_ok());
        for refused in [
            outside.clone(),
            allowed.join("escape"),
            allowed.join("repo/../../outside"),
        ] {
            assert!(
                matches!(
                    roots.admit(refused.to_str().unwrap()),
                    Err(RootError::Outside(_))
                ),
                "{} was admitted",
                refused.display()
            );
        }
        assert!(matches!(
            roots.admit(allowed.join("missing").to_str().unwrap()),
            Err(RootError::NotADirectory(_))
        ));
        // Outside, whether the path exists or not: the answer must not tell.
        for refused in [
            outside.join("missing"),
            outside.join("missing/deeper"),
            allowed.join("escape/missing"),
            allowed.join("missing/../../outside"),
            allowed.join("missing/../../outside/missing"),
            PathBuf::from("/nonexistent-snag-root/x"),
        ] {
            assert!(
                matches!(
                    roots.admit(refused.to_str().unwrap()),
                    Err(RootError::Outside(_))
                ),
                "{} was not refused as outside",
                refused.display()
            );
        }
        // A sibling whose name merely starts with the root's is outside.
        let sibling = base.path().join("allowed-not");
        std::fs::create_dir_all(&sibling).unwrap();
        assert!(matches!(
            roots.admit(sibling.to_str().unwrap()),
            Err(RootError::Outside(_))
        ));
    }
}
