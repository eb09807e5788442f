//! coolify-client (being built).
