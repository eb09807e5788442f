//! Shared harness for the stagegate scenario tests.
