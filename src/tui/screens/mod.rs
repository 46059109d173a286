//! One module per screen: each owns its state, how keys change it, and
//! what it makes of the data loaded for it. `app` routes between them.

pub mod dashboard;
pub mod detail;
pub mod list;
pub mod runs;

use crate::keymap::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Runs,
    Dashboard,
    List,
    Detail,
}

impl Screen {
    pub fn context(self) -> Context {
        match self {
            Screen::Runs => Context::Runs,
            Screen::Dashboard => Context::Dashboard,
            Screen::List => Context::List,
            Screen::Detail => Context::Detail,
        }
    }
}

/// Moves an index by `delta` within `0..len`.
pub(crate) fn step(index: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let moved = (index as i64)
        .saturating_add(delta)
        .clamp(0, len as i64 - 1);
    moved as usize
}
