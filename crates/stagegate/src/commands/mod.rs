//! One module per command: each turns its options into a typed report, using the engine.

pub mod backup;
#[cfg(feature = "demo")]
pub mod demo;
pub mod deploy;
pub mod env;
pub mod history;
pub mod init;
pub mod notes;
pub mod preview;
pub mod release;
pub mod rollback;
pub mod setup;
pub mod status;
pub mod workflows;

/// `1 change`, `3 changes`: a count with its noun in the right number.
pub(crate) fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
