//! `snag repro`: a grammar-gap group's example cut down to the snippet a
//! maintainer pastes into a grammar bug report (see [`crate::repro`]).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail};

use crate::cli::{ReproArgs, ReproFormat};
use crate::sanitize;
use crate::store::Store;
use crate::store::groups::GroupRecord;
use crate::words::{count, duration};

pub async fn run(store: &Store, args: ReproArgs) -> anyhow::Result<ExitCode> {
    let group = resolve(store, &args).await?;
    let budget = Duration::from_secs_f64(args.timeout);
    let reduced = crate::repro::reduce_group(store, &group, budget).await?;
    let found = &reduced.reproduction;
    eprintln!(
        "snag: {} (run {}): {} cut to {} in {}, {}; construct: {}",
        reduced.shown_path,
        reduced.run_id,
        count(found.original_bytes, "byte"),
        found.text.len(),
        count(found.tests, "parse"),
        duration(found.elapsed),
        sanitize::line(&found.construct)
    );
    if !found.complete {
        eprintln!("snag: the time ran out (--timeout): a smaller text may exist");
    }
    if args.format == ReproFormat::Issue {
        super::stdout::print(&crate::report::issue::grammar_gap(&reduced, &group))?;
        return Ok(ExitCode::SUCCESS);
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
