//! `cargo xtask`: this repository's stagegate, run through the alias in `.cargo/config.toml`.
//!
//! A Rust workspace gets `cargo xtask release` the same way: a package with this `main` and a
//! dependency on `stagegate`, and the alias `xtask = "run --package xtask --"`.

fn main() -> std::process::ExitCode {
    stagegate::cli::run(stagegate::Invocation::cargo_xtask())
}
