//! release-notes (being built).
