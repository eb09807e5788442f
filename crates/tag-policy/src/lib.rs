//! tag-policy (being built).
