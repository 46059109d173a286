//! One module per resource; each handler carries its OpenAPI description.

pub mod batch;
pub mod errors;
pub mod groups;
pub mod runs;
pub mod spec;
