//! Benchmark of release notes on a generated 20,000-commit repository (being written).

fn main() {}
