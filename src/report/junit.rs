//! JUnit XML: one test suite for the run, one test case per file. Failed
//! and partial files are failures with their messages; skipped files are
//! skipped test cases.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::ci::CiRun;
use crate::index::outcome::Outcome;
use crate::sanitize;

pub fn render(run: &CiRun<'_>) -> Result<String, quick_junit::SerializeError> {
    let errors = run.errors_by_file();
    let mut suite = TestSuite::new(format!("snag {}", sanitize::line(&run.summary.repository)));
    suite.set_time(Duration::from_millis(run.summary.duration_ms));
    for file in run.files {
        let file_errors = errors.get(file.file_path.as_str());
        let status = match file.outcome {
            Outcome::Indexed => TestCaseStatus::success(),
            Outcome::Skipped => {
                let mut status = TestCaseStatus::skipped();
                let reason = file.skip_reason.as_deref().unwrap_or("skipped");
                status.set_message(format!("skipped: {reason}"));
                status
            }
            Outcome::Partial | Outcome::Failed => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let list = file_errors.map(Vec::as_slice).unwrap_or_default();
                if let Some(first) = list.first() {
                    status.set_message(sanitize::line(&first.error_message).into_owned());
                    status.set_type(first.error_type.as_str());
                }
                let mut description = String::new();
                for e in list {
                    let known = if run.counts(e) {
                        ""
                    } else {
                        " (also in the baseline run)"
                    };
                    description.push_str(&format!(
                        "{}: {}{known}\n",
                        e.error_type,
                        sanitize::line(&e.error_message)
                    ));
                    if let Some(traceback) = &e.error_traceback {
                        description.push_str(&sanitize::block(traceback));
                        description.push('\n');
                    }
                }
                status.set_description(description);
                status
            }
        };
        let mut case = TestCase::new(sanitize::line(&file.file_path).into_owned(), status);
        case.set_classname(file.language.as_deref().unwrap_or("file"));
        case.set_time(Duration::from_micros(file.duration_us.max(0) as u64));
        suite.add_test_case(case);
    }
    let mut report = Report::new("snag");
    report.set_time(Duration::from_millis(run.summary.duration_ms));
    report.add_test_suite(suite);
    report.to_string()
}
