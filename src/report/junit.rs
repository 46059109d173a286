//! JUnit XML: one test suite for the run, one test case per file. Failed
//! and partial files are failures with their messages; skipped files are
//! skipped test cases. Written file by file as the run's files and errors
//! are read: the counts in the opening tags come from the run's summary.

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::ci::CiRun;
use crate::index::outcome::Outcome;
use crate::sanitize;
use crate::store::ErrorRecord;
use crate::store::files::FileRecord;

pub struct JunitWriter<'a, W: Write> {
    xml: Writer<W>,
    run: &'a CiRun<'a>,
}

impl<'a, W: Write> JunitWriter<'a, W> {
    pub fn begin(out: W, run: &'a CiRun<'a>) -> std::io::Result<Self> {
        let mut xml = Writer::new_with_indent(out, b' ', 4);
        let files = &run.summary.files;
        let (tests, failures) = (
            files.total.to_string(),
            (files.failed + files.partial).to_string(),
        );
        let time = seconds(run.summary.duration_ms as f64 / 1000.0);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.write_event(Event::Start(BytesStart::new("testsuites").with_attributes(
            [
                ("name", "snag"),
                ("tests", tests.as_str()),
                ("failures", failures.as_str()),
                ("errors", "0"),
                ("time", time.as_str()),
            ],
        )))?;
        let suite = format!("snag {}", sanitize::line(&run.summary.repository));
        let skipped = files.skipped.to_string();
        xml.write_event(Event::Start(BytesStart::new("testsuite").with_attributes(
            [
                ("name", suite.as_str()),
                ("tests", tests.as_str()),
                ("disabled", skipped.as_str()),
                ("errors", "0"),
                ("failures", failures.as_str()),
                ("time", time.as_str()),
            ],
        )))?;
        Ok(JunitWriter { xml, run })
    }

    /// The test case of one file, with its errors.
    pub fn file(&mut self, file: &FileRecord, errors: &[ErrorRecord]) -> std::io::Result<()> {
        let name = sanitize::path(&file.file_path);
        let time = seconds(file.duration_us.max(0) as f64 / 1e6);
        let description = self.description(errors);
        let case = self.xml.create_element("testcase").with_attributes([
            ("name", name.as_ref()),
            ("classname", file.language.as_deref().unwrap_or("file")),
            ("time", time.as_str()),
        ]);
        match file.outcome {
            Outcome::Indexed => {
                case.write_empty()?;
            }
            Outcome::Skipped => {
                let reason = format!(
                    "skipped: {}",
                    file.skip_reason.as_deref().unwrap_or("skipped")
                );
                case.write_inner_content(|xml| {
                    xml.create_element("skipped")
                        .with_attribute(("message", reason.as_str()))
                        .write_empty()
                        .map(|_| ())
                })?;
            }
            Outcome::Partial | Outcome::Failed => {
                case.write_inner_content(|xml| {
                    let mut failure = BytesStart::new("failure");
                    if let Some(first) = errors.first() {
                        let message = sanitize::line(&first.error_message);
                        failure.push_attribute(("message", message.as_ref()));
                        failure.push_attribute(("type", first.error_type.as_str()));
                    }
                    xml.write_event(Event::Start(failure))?;
                    xml.write_event(Event::Text(BytesText::new(&description)))?;
                    xml.write_event(Event::End(BytesEnd::new("failure")))
                })?;
            }
        }
        Ok(())
    }

    /// Each error's type and message (and whether the baseline had it),
    /// its problems, and its traceback.
    fn description(&self, errors: &[ErrorRecord]) -> String {
        let mut description = String::new();
        for e in errors {
            let known = if self.run.counts(e) {
                ""
            } else {
                " (also in the baseline run)"
            };
            description.push_str(&format!(
                "{}: {}{known}\n",
                e.error_type,
                sanitize::line(&e.error_message)
            ));
            // Each problem with its verdict, construct and location.
            for problem in &e.details.problems {
                description.push_str(&format!(
                    "  {}:{} {}\n",
                    problem.span.line,
                    problem.span.column,
                    sanitize::line(&super::ci::problem_words(problem))
                ));
            }
            if let Some(traceback) = &e.error_traceback {
                description.push_str(&sanitize::block(traceback));
                description.push('\n');
            }
        }
        description
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.xml
            .write_event(Event::End(BytesEnd::new("testsuite")))?;
        self.xml
            .write_event(Event::End(BytesEnd::new("testsuites")))?;
        let mut out = self.xml.into_inner();
        out.write_all(b"\n")?;
        Ok(out)
    }
}

/// The JUnit document of a run with these files and errors, as one string.
pub fn render(
    run: &CiRun<'_>,
    files: &[FileRecord],
    errors: &[ErrorRecord],
) -> std::io::Result<String> {
    let mut document = JunitWriter::begin(Vec::new(), run)?;
    for file in files {
        let of_file: Vec<ErrorRecord> = errors
            .iter()
            .filter(|e| e.file_path == file.file_path)
            .cloned()
            .collect();
        document.file(file, &of_file)?;
    }
    let bytes = document.finish()?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Seconds with three decimals, as JUnit readers expect.
fn seconds(value: f64) -> String {
    format!("{value:.3}")
}
