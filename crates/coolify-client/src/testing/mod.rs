//! A stateful fake Coolify server for tests (in progress).
