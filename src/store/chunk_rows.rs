//! Chunks as rows of COPY's binary format: the bulk of a run's data goes to
//! the server in one stream per batch, every field length-prefixed, so
//! neither side scans the text for escapes or parses numbers.

use serde::Serialize;

use super::text::{storable, storable_json};
use crate::index::chunk::{Chunk, ImportRef};
use crate::index::process::FileReport;

/// The statement the rows are made for; its columns in this order.
pub const COPY_CHUNKS: &str = "COPY code_chunks (repository, file_path, language, chunk_type, name, \
     source_code, start_line, end_line, metadata, run_id, source_key) FROM STDIN WITH (FORMAT binary)";
const COLUMNS: i16 = 11;

/// "PGCOPY\n\377\r\n\0", then no flags and no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
const TRAILER: &[u8] = &(-1i16).to_be_bytes();
/// jsonb's binary input: a version byte, then the JSON text.
const JSONB_VERSION: u8 = 1;

/// What `code_chunks.metadata` holds for a chunk.
#[derive(Serialize)]
struct StoredMetadata<'a> {
    qualified_name: &'a str,
    exported: bool,
    imports: &'a [ImportRef],
    calls: &'a [String],
    start_byte: usize,
    end_byte: usize,
}

impl StoredMetadata<'_> {
    fn has_nul(&self) -> bool {
        let nul = |s: &str| s.contains('\0');
        nul(self.qualified_name)
            || self.calls.iter().any(|c| nul(c))
            || self.imports.iter().any(|i| nul(&i.name) || nul(&i.source))
    }
}

pub struct ChunkRows {
    buffer: Vec<u8>,
}

impl Default for ChunkRows {
    fn default() -> Self {
        Self {
            buffer: HEADER.to_vec(),
        }
    }
}

impl ChunkRows {
    pub fn is_empty(&self) -> bool {
        self.buffer.len() == HEADER.len()
    }

    pub fn push(
        &mut self,
        repository: &str,
        path: &str,
        run_id: i64,
        report: &FileReport,
        chunk: &Chunk,
    ) {
        self.buffer.extend_from_slice(&COLUMNS.to_be_bytes());
        self.text(repository);
        self.text(path);
        self.text(report.language.map_or("unknown", |l| l.as_str()));
        self.text(chunk.chunk_type.as_str());
        self.text(&storable(&chunk.name));
        self.text(&storable(&chunk.source));
        self.field(&(chunk.start_line as i32).to_be_bytes());
        self.field(&(chunk.end_line as i32).to_be_bytes());
        self.jsonb(&StoredMetadata {
            qualified_name: &chunk.qualified_name,
            exported: chunk.metadata.exported,
            imports: &chunk.metadata.imports,
            calls: &chunk.metadata.calls,
            start_byte: chunk.start_byte,
            end_byte: chunk.end_byte,
        });
        self.field(&run_id.to_be_bytes());
        match report.source_key {
            Some(key) => self.field(&key.to_be_bytes()),
            None => self.null(),
        }
    }

    /// The COPY data, trailer included.
    pub fn finish(mut self) -> Vec<u8> {
        self.buffer.extend_from_slice(TRAILER);
        self.buffer
    }

    fn field(&mut self, bytes: &[u8]) {
        self.buffer
            .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buffer.extend_from_slice(bytes);
    }

    fn null(&mut self) {
        self.buffer.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn text(&mut self, text: &str) {
        self.field(text.as_bytes());
    }

    /// Serialised in place; the length is written once the text is there.
    fn jsonb(&mut self, metadata: &StoredMetadata<'_>) {
        let length_at = self.buffer.len();
        self.buffer.extend_from_slice(&[0; 4]);
        self.buffer.push(JSONB_VERSION);
        // Writing to a Vec cannot fail. jsonb rejects the escape serde_json
        // writes for NUL, so the rare document with one loses it first.
        if metadata.has_nul() {
            let value = serde_json::to_value(metadata).unwrap_or_default();
            let _ = serde_json::to_writer(&mut self.buffer, &storable_json(&value));
        } else {
            let _ = serde_json::to_writer(&mut self.buffer, metadata);
        }
        let length = (self.buffer.len() - length_at - 4) as i32;
        self.buffer[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
    }
}
