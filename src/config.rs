//! Where snag keeps its things, and the config file.

use std::path::PathBuf;

use serde::Deserialize;

use crate::keymap::KeyOverrides;

/// Overrides the data directory (the private PostgreSQL cluster lives there).
pub const DATA_DIR_ENV: &str = "SNAG_DATA_DIR";
/// Overrides the config file's path.
pub const CONFIG_ENV: &str = "SNAG_CONFIG";

/// The directory for snag's own data: `$SNAG_DATA_DIR`, else `/var/lib/snag`
/// for root (a system service's place), else the user's data directory.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if running_as_root() {
        return PathBuf::from("/var/lib/snag");
    }
    directories::ProjectDirs::from("", "", "snag")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("snag"))
}

/// Where grammars built from source (`--grammar`) are kept, by their
/// sources' hash.
pub fn grammar_cache_dir() -> PathBuf {
    data_dir().join("grammars")
}

/// Whether snag runs as root, as a system service does.
fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The user's config directory for snag (`~/.config/snag` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "snag").map(|dirs| dirs.config_dir().to_path_buf())
}

/// The config file, `config.toml` in the config directory:
///
/// ```toml
/// theme = "light"            # dark, light, or themes/NAME.toml beside this file
/// [keys.list]                # global, runs, dashboard, list, detail
/// x = "mark_resolved"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub theme: Option<String>,
    #[serde(default)]
    pub keys: KeyOverrides,
}

#[derive(Debug, thiserror::Error)]
#[error("config file {path}: {message}")]
pub struct ConfigError {
    path: String,
    message: String,
}

impl Config {
    pub fn path() -> Option<PathBuf> {
        std::env::var_os(CONFIG_ENV)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| config_dir().map(|dir| dir.join("config.toml")))
    }

    /// The config file, or defaults when there is none.
    pub fn load() -> Result<Config, ConfigError> {
        let Some(path) = Self::path() else {
            return Ok(Config::default());
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(ConfigError {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_theme_and_keys_and_rejects_typos() {
        let config: Config =
            toml::from_str("theme = \"light\"\n[keys.list]\nx = \"mark_resolved\"\n").unwrap();
        assert_eq!(config.theme.as_deref(), Some("light"));
        assert_eq!(config.keys.len(), 1);
        assert!(toml::from_str::<Config>("them = \"light\"\n").is_err());
    }
}
