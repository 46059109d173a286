//! Error groups after real runs: listing, filters, triage status and notes.

mod support;

use snag::index::outcome::{ErrorType, Verdict};
use snag::runner::{self, RunRequest};
use snag::store::ErrorQuery;
use snag::store::groups::{GroupQuery, GroupStatus};
use support::{TestDb, hostile_corpus};

#[tokio::test]
async fn groups_list_filter_and_triage() {
    let dir = tempfile::tempdir().unwrap();
    hostile_corpus(dir.path());
    let db = TestDb::new().await;
    let mut request = RunRequest::new(dir.path());
    request.repository = "h".into();
    runner::start(db.store.clone(), request)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();

    let (all, total) = db
        .store
        .list_groups("h", &GroupQuery::default(), 100, 0)
        .await
        .unwrap();
    assert_eq!(total as usize, all.len());
    assert!(all.len() >= 3);
    assert!(
        all.windows(2)
            .all(|w| w[0].last_run_files >= w[1].last_run_files)
    );
    assert!(
        all.iter()
            .all(|g| g.status == GroupStatus::Open && g.occurrences >= 1)
    );

    let parsing = GroupQuery {
        error_types: vec![ErrorType::ParsingError],
        ..Default::default()
    };
    let (only_parsing, _) = db.store.list_groups("h", &parsing, 100, 0).await.unwrap();
    assert!(
        !only_parsing.is_empty()
            && only_parsing
                .iter()
                .all(|g| g.error_type == ErrorType::ParsingError)
    );

    let search = GroupQuery {
        text: Some("UTF-8".into()),
        ..Default::default()
    };
    let (found, _) = db.store.list_groups("h", &search, 100, 0).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].error_type, ErrorType::EncodingError);
    let literal = GroupQuery {
        text: Some("%".into()),
        ..Default::default()
    };
    assert_eq!(
        db.store.list_groups("h", &literal, 100, 0).await.unwrap().1,
        0
    );

    let id = all[0].group_id;
    let ignored = db
        .store
        .set_group_status(id, GroupStatus::Ignored)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ignored.status, GroupStatus::Ignored);
    let noted = db
        .store
        .set_group_note(id, "grammar bug, reported upstream\nsee #12\n")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        noted.note.as_deref(),
        Some("grammar bug, reported upstream\nsee #12")
    );
    let cleared = db.store.set_group_note(id, "  ").await.unwrap().unwrap();
    assert_eq!(cleared.note, None);
    // Several at once, as the UI's bulk triage does; unknown ids are absent.
    let ids: Vec<i64> = all.iter().map(|g| g.group_id).chain([-1]).collect();
    let resolved = db
        .store
        .set_groups_status(&ids, GroupStatus::Resolved)
        .await
        .unwrap();
    assert_eq!(resolved.len(), all.len());
    assert!(resolved.iter().all(|g| g.status == GroupStatus::Resolved));
    let noted = db.store.set_groups_note(&ids, "triaged").await.unwrap();
    assert!(noted.iter().all(|g| g.note.as_deref() == Some("triaged")));
    db.store.set_groups_note(&ids, "").await.unwrap();
    assert!(
        db.store
            .set_group_status(-1, GroupStatus::Open)
            .await
            .unwrap()
            .is_none()
    );
    let by_fingerprint = db
        .store
        .find_group("h", &all[0].fingerprint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_fingerprint.group_id, id);
    assert_eq!("resolved".parse::<GroupStatus>(), Ok(GroupStatus::Resolved));
    assert!("done".parse::<GroupStatus>().is_err());
}

/// A file with a grammar gap and a mistake is in both groups; a group's
/// errors are the files any of whose problems is in it; the run's errors by
/// type still count one per file.
#[tokio::test]
async fn every_problem_of_a_file_joins_its_own_group() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("both.ts"),
        "export interface Box<in out T> {\n  value: T\n}\n\nexport const broken = (a: number => a\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("gap.ts"),
        "export interface Producer<out T> {\n  make(): T\n}\n",
    )
    .unwrap();
    let db = TestDb::new().await;
    let mut request = RunRequest::new(dir.path());
    request.repository = "p".into();
    let summary = runner::start(db.store.clone(), request)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();

    let (groups, _) = db
        .store
        .list_groups("p", &GroupQuery::default(), 100, 0)
        .await
        .unwrap();
    let gap = groups
        .iter()
        .find(|g| g.title == "grammar gap: variance annotation on a type parameter")
        .expect("the gap's group");
    let mistake = groups
        .iter()
        .find(|g| g.title.starts_with("invalid source: "))
        .expect("the mistake's group");
    assert_eq!(
        (gap.last_run_files, mistake.last_run_files),
        (2, 1),
        "{groups:?}"
    );
    assert_eq!(groups.len(), 2, "{groups:?}");

    let members = |fingerprint: &str| {
        let query = snag::store::errors::ErrorQuery {
            repository: "p".into(),
            fingerprint: Some(fingerprint.to_owned()),
            ..Default::default()
        };
        let store = db.store.clone();
        async move {
            let page = store.list_errors(&query, 100, 0).await.unwrap();
            let mut paths: Vec<String> = page.errors.iter().map(|e| e.file_path.clone()).collect();
            paths.sort();
            (paths, page.total)
        }
    };
    assert_eq!(
        members(&gap.fingerprint).await,
        (vec!["both.ts".to_owned(), "gap.ts".to_owned()], 2)
    );
    assert_eq!(
        members(&mistake.fingerprint).await,
        (vec!["both.ts".to_owned()], 1)
    );

    let by_type = db.store.run_error_counts(summary.run_id).await.unwrap();
    assert_eq!(by_type.get(&ErrorType::ParsingError), Some(&2));
    let top = db
        .store
        .top_groups_for_run(summary.run_id, 5)
        .await
        .unwrap();
    assert_eq!(top[0].title, gap.title);
    assert_eq!(top[0].files, 2);
}

/// What a run changed in the groups (new ones, regressions), the group
/// list's status and novelty filters, and a run's errors by verdict read
/// from its groups.
#[tokio::test]
async fn a_runs_changes_status_filters_and_verdict_counts() {
    let dir = tempfile::tempdir().unwrap();
    hostile_corpus(dir.path());
    let db = TestDb::new().await;
    let index = || async {
        let mut request = RunRequest::new(dir.path());
        request.repository = "h".into();
        let handle = runner::start(db.store.clone(), request).await.unwrap();
        let run_id = handle.run_id;
        handle.wait().await.unwrap();
        run_id
    };
    let first = index().await;
    let (all, total) = db
        .store
        .list_groups("h", &GroupQuery::default(), 100, 0)
        .await
        .unwrap();
    let changes = db.store.group_changes("h", first, 100).await.unwrap();
    assert_eq!(
        changes.new_total, total,
        "every group is new in the first run"
    );
    assert_eq!(changes.new.len(), all.len());
    assert_eq!(changes.regressed_total, 0);

    // The filter bar's counts: what the run's list finds under each type
    // and verdict filter.
    let facets = db.store.run_error_facets(first).await.unwrap();
    assert!(!facets.verdicts.is_empty());
    let listed = |error_types: Vec<ErrorType>, verdict: Option<Verdict>| {
        let query = ErrorQuery {
            repository: "h".into(),
            run_id: Some(first),
            error_types,
            verdict,
            ..ErrorQuery::default()
        };
        let store = db.store.clone();
        async move { store.list_errors(&query, 1, 0).await.unwrap().total }
    };
    for verdict in Verdict::ALL {
        assert_eq!(
            facets.verdicts.get(&verdict).copied().unwrap_or(0),
            listed(Vec::new(), Some(verdict)).await,
            "{verdict}"
        );
    }
    for error_type in ErrorType::ALL {
        assert_eq!(
            facets.types.get(&error_type).copied().unwrap_or(0),
            listed(vec![error_type], None).await,
            "{error_type}"
        );
    }

    // One group resolved, one ignored: the default view hides both.
    let (resolved, ignored) = (all[0].group_id, all[1].group_id);
    db.store
        .set_group_status(resolved, GroupStatus::Resolved)
        .await
        .unwrap();
    db.store
        .set_group_status(ignored, GroupStatus::Ignored)
        .await
        .unwrap();
    let second = index().await;
    let unresolved = GroupQuery {
        statuses: vec![GroupStatus::Open, GroupStatus::Regressed],
        ..GroupQuery::default()
    };
    let (shown, shown_total) = db
        .store
        .list_groups("h", &unresolved, 100, 0)
        .await
        .unwrap();
    assert_eq!(shown_total, total - 1, "the ignored group is hidden");
    assert!(shown.iter().all(|g| g.group_id != ignored));
    let regressed = shown.iter().find(|g| g.group_id == resolved).unwrap();
    assert_eq!(regressed.status, GroupStatus::Regressed, "seen again");
    let changes = db.store.group_changes("h", second, 100).await.unwrap();
    assert_eq!(changes.regressed_total, 1);
    assert_eq!(changes.regressed[0].group_id, resolved);
    assert_eq!(changes.new_total, 0, "nothing new in the same tree");
    let new_in_first = GroupQuery {
        first_seen_run: Some(first),
        ..GroupQuery::default()
    };
    assert_eq!(
        db.store
            .list_groups("h", &new_in_first, 100, 0)
            .await
            .unwrap()
            .1,
        total
    );
}
