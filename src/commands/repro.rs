//! `snag repro`: a grammar-gap group's example cut down to the snippet a
//! maintainer pastes into a grammar bug report.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::cli::ReproArgs;
use crate::index::decode::{Source, read_source};
use crate::index::language::Language;
use crate::index::outcome::ErrorType;
use crate::index::verdict::repro::minimize;
use crate::sanitize;
use crate::store::Store;
use crate::store::groups::GroupRecord;
use crate::words::{count, duration};

pub async fn run(store: &Store, args: ReproArgs) -> anyhow::Result<ExitCode> {
    let group = resolve(store, &args).await?;
    if group.error_type != ErrorType::ParsingError {
        bail!(
            "group {} is a {} group: only syntax errors can be reproduced",
            group.group_id,
            group.error_type
        );
    }
    let example = store.group_example(&group).await?.ok_or_else(|| {
        anyhow!(
            "group {} has no stored example any more: index {} again",
            group.group_id,
            sanitize::line(&group.repository)
        )
    })?;
    let path = crate::stored_path::to_path(Path::new(&example.root), &example.file_path);
    let shown = sanitize::line(&path.display().to_string()).into_owned();
    let language =
        Language::for_path(&path).ok_or_else(|| anyhow!("{shown} is not a file snag parses"))?;
    let text = match read_source(&path, u64::MAX).1 {
        Source::Text(text) => text,
        Source::Skipped(reason) => bail!("{shown} cannot be read as source: {}", reason.as_str()),
        Source::Failed(error) => bail!("{shown}: {}", sanitize::line(&error.message)),
    };
    let budget = Duration::from_secs_f64(args.timeout);
    let rel_path = example.file_path.clone();
    let found = tokio::task::spawn_blocking(move || minimize(&text, &rel_path, language, budget))
        .await
        .context("the reduction stopped unexpectedly")?
        .map_err(|e| anyhow!("{shown}: {e}"))?;
    eprintln!(
        "snag: {shown} (run {}): {} cut to {} in {}, {}; construct: {}",
        example.run_id,
        count(found.original_bytes, "byte"),
        found.text.len(),
        count(found.tests, "parse"),
        duration(found.elapsed),
        sanitize::line(&found.construct)
    );
    if !found.complete {
        eprintln!("snag: the time ran out (--timeout): a smaller text may exist");
    }
    let text = sanitize::block(&found.text);
    if text.ends_with('\n') {
        super::stdout::print(&text)?;
    } else {
        super::stdout::print_line(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The group named by id or fingerprint.
async fn resolve(store: &Store, args: &ReproArgs) -> anyhow::Result<GroupRecord> {
    let name = args.group.trim();
    let is_fingerprint = name.len() == 16 && name.chars().all(|c| c.is_ascii_hexdigit());
    if !is_fingerprint {
        let id: i64 = name.parse().map_err(|_| {
            anyhow!(
                "`{}` is neither a group id nor a fingerprint",
                sanitize::line(name)
            )
        })?;
        let group = store
            .get_group(id)
            .await?
            .ok_or_else(|| anyhow!("there is no group {id}"))?;
        if let Some(repository) = &args.repository
            && *repository != group.repository
        {
            bail!(
                "group {id} belongs to repository `{}`, not `{}`",
                sanitize::line(&group.repository),
                sanitize::line(repository)
            );
        }
        return Ok(group);
    }
    let mut groups = store
        .groups_with_fingerprint(&name.to_ascii_lowercase())
        .await?;
    if let Some(repository) = &args.repository {
        groups.retain(|g| g.repository == *repository);
    }
    match groups.len() {
        0 => bail!("there is no group with fingerprint {name}"),
        1 => Ok(groups.remove(0)),
        _ => bail!(
            "fingerprint {name} names groups in {} repositories; choose one with --repo",
            groups.len()
        ),
    }
}
