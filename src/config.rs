//! Where snag keeps its things.

use std::path::PathBuf;

/// Overrides the data directory (the private PostgreSQL cluster lives there).
pub const DATA_DIR_ENV: &str = "SNAG_DATA_DIR";

/// The directory for snag's own data: `$SNAG_DATA_DIR`, else `/var/lib/snag`
/// for root (a system service's place), else the user's data directory.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if crate::store::cluster::running_as_root() {
        return PathBuf::from("/var/lib/snag");
    }
    directories::ProjectDirs::from("", "", "snag")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("snag"))
}
