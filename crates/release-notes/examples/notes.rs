//! The `notes` command as a thin client of the library, used by `benches/compare.sh`.
//!
//! `cargo run --release -p release-notes --example notes -- REPO [FROM|--all] [TO]` prints the
//! Markdown notes of `FROM..TO` (default: previous release..HEAD; `--all`: the whole history).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repo = git2::Repository::discover(args.first().map_or(".", String::as_str))?;
    let from = match args.get(1).map(String::as_str) {
        Some("--all") => release_notes::RangeStart::Beginning,
        flag => release_notes::RangeStart::from_flag(flag),
    };
    let to = args.get(2).map_or("HEAD", String::as_str);
    let policy = tag_policy::TagPolicy::default();
    let range = release_notes::read_range(&repo, from, to, &policy)?;
    let notes = release_notes::ReleaseNotes::new(&range);
    std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        notes.to_markdown().as_bytes(),
    )?;
    Ok(())
}
