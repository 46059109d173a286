//! Error groups after real runs: listing, filters, triage status and notes.

mod support;

use snag::index::outcome::ErrorType;
use snag::runner::{self, RunRequest};
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
