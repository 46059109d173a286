//! How precisely each problem of a file is judged and located, on real
//! code.
//!
//! ```sh
//! npm pack effect@3.10.0 && tar xzf effect-3.10.0.tgz   # or any package
//! cargo bench --bench verdicts -- package
//! ```
//!
//! Runs the engine (no database) over the package's files, then over
//! copies of its grammar-gap files broken on purpose (one line of each, away
//! from its gaps, loses a `)` or gains `= ;`). Prints:
//! - the share of grammar-gap sites that belong to a problem with a named
//!   construct, how many problem groups there are and whether any mixes
//!   verdicts;
//! - for the broken copies, the share whose invalid-source problem is at
//!   the broken spot (only whitespace between), the share on the broken
//!   line, and the share that still report their gaps as gaps;
//! - the verdict step's share of the engine's time, with and without it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use snag::index::discover::{Discovery, DiscoveryOptions, SourceFile};
use snag::index::outcome::{ErrorType, FileError, Verdict};
use snag::index::process::{FileProcessor, FileReport, ProcessSettings};

fn main() -> anyhow::Result<()> {
    let root = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("give the directory of a package to judge"))?;
    let mut files = Vec::new();
    Discovery::new(&root, &DiscoveryOptions::default())?.walk(|item| {
        if let Ok(file) = item {
            files.push(file);
        }
        true
    });
    println!("{}: {} files", root.display(), files.len());

    let (with, reports) = run(&files, true);
    let (without, _) = run(&files, false);
    let verdict_time: Duration = reports
        .iter()
        .filter_map(|r| parsing_error(r))
        .filter_map(|e| e.verdict.as_ref())
        .map(|v| v.duration())
        .sum();
    println!(
        "engine with verdicts {:.3} s, without {:.3} s ({:+.1}%); verdicts {:.3} s summed = {:.1}% of the run",
        with.as_secs_f64(),
        without.as_secs_f64(),
        100.0 * (with.as_secs_f64() / without.as_secs_f64() - 1.0),
        verdict_time.as_secs_f64(),
        100.0 * verdict_time.as_secs_f64() / with.as_secs_f64()
    );

    // Sites, problems and groups.
    let mut gap_sites = 0u64;
    let mut named_gap_sites = 0u64;
    let mut groups: BTreeMap<String, BTreeSet<Verdict>> = BTreeMap::new();
    let mut constructs: BTreeMap<String, usize> = BTreeMap::new();
    let mut gap_files = Vec::new();
    for (file, report) in files.iter().zip(&reports) {
        let Some(error) = parsing_error(report) else {
            continue;
        };
        for problem in &error.details.problems {
            groups
                .entry(problem.fingerprint.clone())
                .or_default()
                .insert(problem.verdict);
            if problem.verdict == Verdict::GrammarGap {
                gap_sites += u64::from(problem.sites);
                if !matches!(problem.construct.as_str(), "" | "program") {
                    named_gap_sites += u64::from(problem.sites);
                }
                *constructs.entry(problem.construct.clone()).or_default() += 1;
            }
        }
        if error
            .details
            .problems
            .iter()
            .all(|p| p.verdict == Verdict::GrammarGap)
        {
            gap_files.push((file.clone(), error.clone()));
        }
    }
    let mixed = groups.values().filter(|v| v.len() > 1).count();
    println!(
        "grammar-gap sites with a named construct: {named_gap_sites}/{gap_sites} ({:.1}%); \
         {} problem groups, {mixed} mixing verdicts",
        percent(named_gap_sites, gap_sites),
        groups.len()
    );
    for (construct, n) in &constructs {
        println!("  gap problem {n:>5}  {construct}");
    }

    // Broken copies.
    let scratch = tempfile::tempdir()?;
    let keep = std::env::args()
        .skip_while(|a| a != "--keep")
        .nth(1)
        .map(PathBuf::from);
    let mut processor = FileProcessor::new(ProcessSettings {
        verdicts: true,
        ..ProcessSettings::default()
    });
    let (mut broken, mut located, mut gaps_kept, mut spot) = (0u64, 0u64, 0u64, 0u64);
    // Where the invalid-source problem nearest the broken line is, when it
    // is not on it.
    let (mut next_line, mut earlier, mut later, mut none) = (0u64, 0u64, 0u64, 0u64);
    let mut misses = Vec::new();
    for (i, (file, original)) in gap_files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(&file.path) else {
            continue;
        };
        let Some((line, cut, copy)) = break_a_line(&text, original, i) else {
            continue;
        };
        let path = scratch
            .path()
            .join(format!("{i}_{}", file_name(&file.path)));
        std::fs::write(&path, &copy)?;
        if let Some(keep) = &keep {
            std::fs::create_dir_all(keep)?;
            std::fs::write(keep.join(file_name(&path)), &copy)?;
        }
        let report = processor.process(&SourceFile {
            path,
            rel_path: format!("{i}_{}", file_name(&file.path)),
            kind: file.kind,
        });
        broken += 1;
        let Some(error) = parsing_error(&report) else {
            misses.push(format!("{}: no syntax error at all", file.rel_path));
            continue;
        };
        let problems = &error.details.problems;
        let on_line = problems
            .iter()
            .any(|p| p.verdict == Verdict::InvalidSource && p.span.line == line);
        let gap_constructs: BTreeSet<&str> = original
            .details
            .problems
            .iter()
            .map(|p| p.construct.as_str())
            .collect();
        let still_gaps = problems.iter().any(|p| {
            p.verdict == Verdict::GrammarGap && gap_constructs.contains(p.construct.as_str())
        });
        located += u64::from(on_line);
        // The same repair: only whitespace between the problem and the cut
        // (a `)` that began a line is as missing at the end of the last).
        let index = snag::index::lines::LineIndex::new(&copy);
        let at_spot = problems.iter().any(|p| {
            let start = index.start_of(p.span.line as usize - 1);
            let offset = copy[start..]
                .char_indices()
                .nth(p.span.column as usize - 1)
                .map_or(copy.len(), |(b, _)| start + b);
            p.verdict == Verdict::InvalidSource
                && copy[offset.min(cut)..offset.max(cut)].trim().is_empty()
        });
        spot += u64::from(at_spot);
        gaps_kept += u64::from(still_gaps);
        let nearest = problems
            .iter()
            .filter(|p| p.verdict == Verdict::InvalidSource)
            .map(|p| i64::from(p.span.line) - i64::from(line))
            .min_by_key(|d| d.abs());
        match nearest {
            Some(0) => {}
            Some(1) => next_line += 1,
            Some(d) if d < 0 => earlier += 1,
            Some(_) => later += 1,
            None => none += 1,
        }
        if (!on_line || !still_gaps) && misses.len() < 40 {
            misses.push(format!(
                "{} broken at {line}: {}",
                file.rel_path,
                problems
                    .iter()
                    .filter(|p| p.verdict != Verdict::GrammarGap || p.span.line.abs_diff(line) < 30)
                    .map(|p| format!(
                        "{} {}:{} {} {}",
                        p.verdict.as_str(),
                        p.span.line,
                        p.span.column,
                        p.construct,
                        p.message
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    println!(
        "broken copies of {broken} gap files: invalid source at the broken spot {spot} ({:.1}%), \
         on the broken line {located} ({:.1}%), \
         gap still a gap {gaps_kept} ({:.1}%); not on the broken line: on the line after \
         {next_line}, on an earlier line {earlier}, two or more lines later {later}, \
         no invalid-source problem {none}",
        percent(spot, broken),
        percent(located, broken),
        percent(gaps_kept, broken)
    );
    for miss in misses {
        println!("  {miss}");
    }
    Ok(())
}

/// The engine over every file on one thread, best of three.
fn run(files: &[SourceFile], verdicts: bool) -> (Duration, Vec<FileReport>) {
    let mut best = Duration::MAX;
    let mut reports = Vec::new();
    for _ in 0..3 {
        let settings = ProcessSettings {
            verdicts,
            ..ProcessSettings::default()
        };
        let mut processor = FileProcessor::new(settings);
        let started = Instant::now();
        reports = files.iter().map(|f| processor.process(f)).collect();
        best = best.min(started.elapsed());
    }
    (best, reports)
}

fn parsing_error(report: &FileReport) -> Option<&FileError> {
    report
        .errors
        .iter()
        .find(|e| e.error_type == ErrorType::ParsingError)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    100.0 * part as f64 / whole as f64
}

/// A copy of `text` with one line broken, at least ten lines away from
/// every gap of the file: it loses its last `)`, or, with none, gains
/// ` = ;`. Which line depends on `seed`. Returns the broken line (1-based),
/// the byte where the `)` was, and the copy.
fn break_a_line(text: &str, original: &FileError, seed: usize) -> Option<(u32, usize, String)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let gap_lines: Vec<u32> = original
        .details
        .problems
        .iter()
        .map(|p| p.span.line)
        .collect();
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|i| {
            let line = lines[*i].trim();
            let far = gap_lines.iter().all(|g| g.abs_diff(*i as u32 + 1) > 10);
            far && line.contains(')')
                && !line.starts_with("//")
                && !line.starts_with('*')
                && !line.starts_with("/*")
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let at = candidates[(seed * 7919) % candidates.len()];
    let line = lines[at];
    let cut = line.rfind(')')?;
    let broken = format!("{}{}", &line[..cut], &line[cut + 1..]);
    let offset = lines[..at].iter().map(|l| l.len() + 1).sum::<usize>() + cut;
    let mut copy: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    copy[at] = broken;
    Some((at as u32 + 1, offset, copy.join("\n")))
}
