//! `stagegate`: the installed command. Everything it does is in the library's [`stagegate::cli`].

fn main() -> std::process::ExitCode {
    stagegate::cli::run(stagegate::Invocation::stagegate())
}
