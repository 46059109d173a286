//! Panics inside the engine become a file's error instead of the run's end:
//! while a closure runs under [`capture`], a panic on that thread is
//! recorded (message and backtrace) instead of printed.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

/// A panic caught by [`capture`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedPanic {
    /// The panic's message and where it happened.
    pub message: String,
    pub backtrace: String,
}

thread_local! {
    /// Whether a panic on this thread happens inside `capture`.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// The message and backtrace of the last captured panic.
    static LAST: RefCell<Option<CapturedPanic>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into an `Err` that says what happened.
pub fn capture<T>(f: impl FnOnce() -> T) -> Result<T, CapturedPanic> {
    install_hook();
    let outer = CAPTURING.replace(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    CAPTURING.set(outer);
    result.map_err(|_| {
        LAST.take().unwrap_or_else(|| CapturedPanic {
            message: "panic".to_owned(),
            backtrace: String::new(),
        })
    })
}

/// Panics under `capture` are recorded; every other panic goes to the hook
/// that was there before.
fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CAPTURING.get() {
                return previous(info);
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-text panic payload".to_owned());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let backtrace = std::backtrace::Backtrace::force_capture().to_string();
            LAST.set(Some(CapturedPanic {
                message: format!("{message}{location}"),
                backtrace,
            }));
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let caught = capture(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert!(caught.message.contains("boom 7"), "{}", caught.message);
        assert!(!caught.backtrace.is_empty());
        assert_eq!(capture(|| 5), Ok(5));
    }

    #[test]
    fn nested_captures_restore_the_outer_state() {
        let outer = capture(|| {
            let inner = capture(|| -> () { panic!("inner") });
            assert!(inner.is_err());
            panic!("outer");
        });
        assert!(outer.unwrap_err().message.contains("outer"));
    }
}
