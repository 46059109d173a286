//! Reading a failing file for the drill-down, as it is on disk now, and
//! saying when that is not what was indexed.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::command::FileText;
use crate::index::decode::{Source, Unread, decode, read_bounded};
use crate::index::outcome::SkipReason;
use crate::store::ErrorRecord;
use crate::stored_path;

/// The drill-down shows files up to this size; a file read as it is now
/// may have been replaced by anything.
const MAX_SHOWN_BYTES: u64 = 16 << 20;

/// The file of `error` under the run's root, decoded as the engine would,
/// lossily when it could not be decoded (so there is always something to
/// show), with a notice when it changed since the run or is gone.
pub fn load_file(
    root: Option<&Path>,
    error: &ErrorRecord,
    run_started: Option<DateTime<Utc>>,
) -> FileText {
    let path = stored_path::to_path(root.unwrap_or(Path::new("")), &error.file_path);
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let why_not = match read_bounded(&path, MAX_SHOWN_BYTES) {
        Ok(bytes) => Ok(bytes),
        Err(Unread::Skipped { reason, .. }) => Err(match reason {
            SkipReason::TooLarge => format!("is larger than {} MiB", MAX_SHOWN_BYTES >> 20),
            SkipReason::Symlink => "is a symlink now".to_owned(),
            other => format!("is {} now", other.as_str().replace('_', " ")),
        }),
        Err(Unread::Failed(error)) => Err(error.message.clone()),
    };
    let bytes = match why_not {
        Ok(bytes) => bytes,
        Err(why) => {
            return FileText {
                notice: Some(format!(
                    "{} cannot be read now ({why}); the traceback shows what was recorded",
                    path.display()
                )),
                path,
                extension,
                lines: Vec::new(),
            };
        }
    };
    let changed = run_started.and_then(|started| {
        let modified: DateTime<Utc> = std::fs::metadata(&path).ok()?.modified().ok()?.into();
        (modified > started).then(|| {
            format!(
                "changed since the run (modified {}); showing it as it is now",
                modified.format("%Y-%m-%d %H:%M")
            )
        })
    });
    let text = match decode(&bytes) {
        Source::Text(text) => text,
        _ => String::from_utf8_lossy(&bytes).into_owned(),
    };
    FileText {
        path,
        extension,
        lines: crate::index::lines::lines(&text)
            .map(str::to_owned)
            .collect(),
        notice: changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::outcome::ErrorType;

    fn error(path: &str) -> ErrorRecord {
        ErrorRecord {
            error_id: 1,
            repository: "r".into(),
            file_path: path.into(),
            error_type: ErrorType::ParsingError,
            error_message: "m".into(),
            error_traceback: None,
            chunk_type: None,
            language: None,
            occurred_at: Utc::now(),
            run_id: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            fingerprint: None,
            details: Default::default(),
            verdict: None,
        }
    }

    #[test]
    fn reads_decodes_and_notices_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.ts"),
            b"\xEF\xBB\xBFconst a = 1;\nconst b = 2;\n",
        )
        .unwrap();
        let before = Utc::now() - chrono::Duration::hours(1);
        let file = load_file(Some(dir.path()), &error("a.ts"), Some(before));
        assert_eq!(file.lines, ["const a = 1;", "const b = 2;"]);
        assert_eq!(file.extension, "ts");
        assert!(file.notice.unwrap().contains("changed since the run"));
        let fresh = load_file(
            Some(dir.path()),
            &error("a.ts"),
            Some(Utc::now() + chrono::Duration::hours(1)),
        );
        assert_eq!(fresh.notice, None);
    }

    #[test]
    fn a_gone_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let file = load_file(Some(dir.path()), &error("gone.ts"), None);
        assert!(file.lines.is_empty());
        assert!(file.notice.unwrap().contains("cannot be read now"));
    }

    #[test]
    fn undecodable_text_is_shown_lossily() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("l.ts"), b"const caf\xe9 = 1;").unwrap();
        let file = load_file(Some(dir.path()), &error("l.ts"), None);
        assert_eq!(file.lines, ["const caf\u{FFFD} = 1;"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_replaced_by_a_link_to_an_endless_device_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("z.ts")).unwrap();
        let file = load_file(Some(dir.path()), &error("z.ts"), None);
        assert!(file.lines.is_empty());
        assert!(file.notice.unwrap().contains("is a symlink now"));
    }
}
