//! Output formats: the JSON bodies shared by the CLI and the HTTP API, the
//! human-readable tables, the analysis report and the CI formats.

pub mod analysis;
pub mod baseline;
pub mod ci;
pub mod diff;
pub mod errors;
pub mod gate;
pub mod github;
pub mod issue;
pub mod junit;
pub mod known;
pub mod markdown;
pub mod run;
pub mod sarif;

use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};

/// A table for people, with borders only and these column headers: laid
/// out to `width` columns on a terminal; piped (`width` None), each row is
/// left whole on its line, for `grep` and `less -S`.
pub fn table<const N: usize>(width: Option<u16>, header: [&str; N]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(header);
    match width {
        Some(width) => table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width),
        None => table.set_content_arrangement(ContentArrangement::Disabled),
    };
    table
}
