//! snag: index TypeScript/JavaScript repositories into PostgreSQL and triage
//! every file that fails.
//!
//! Data flows one way: `index` produces outcomes and progress, `store`
//! persists and queries them, and the CLI, the UI, the API and reports only
//! read the store (and a run's live counters).

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod index;
pub mod keymap;
pub mod report;
pub mod repro;
pub mod runner;
pub mod sanitize;
pub mod store;
pub mod stored_path;
pub mod tui;
pub mod vocabulary;
pub mod words;
