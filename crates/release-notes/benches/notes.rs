//! Benchmark of release notes on a generated repository of 20,000 commits and 200 tags.
//!
//! Run with `cargo bench -p release-notes --bench notes`. The repository is generated once with
//! `git fast-import` under `target/release-notes-bench/repo` (deterministic: fixed authors,
//! dates and messages) and reused by later runs and by `benches/compare.sh`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use release_notes::{RangeStart, ReleaseNotes, read_range};
use tag_policy::TagPolicy;

const COMMITS: usize = 20_000;
const COMMITS_PER_TAG: usize = 100;
/// The ~100-commit release range timed below (both tags exist in the generated repository).
const RANGE: (&str, &str) = ("v1.49.0", "v1.50.0");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repo_path = bench_dir().join("repo");
    ensure_repository(&repo_path)?;
    let repo = git2::Repository::open(&repo_path)?;
    let policy = TagPolicy::default();

    println!(
        "repository: {} ({COMMITS} commits + merges, {} tags)",
        repo_path.display(),
        COMMITS / COMMITS_PER_TAG
    );
    report("whole history: read + group + Markdown", 10, || {
        let range = read_range(&repo, RangeStart::Beginning, "HEAD", &policy)?;
        Ok(ReleaseNotes::new(&range).to_markdown().len())
    })?;
    report("whole history: read_range only", 10, || {
        Ok(read_range(&repo, RangeStart::Beginning, "HEAD", &policy)?
            .commits()
            .len())
    })?;
    let range = read_range(&repo, RangeStart::Beginning, "HEAD", &policy)?;
    report("whole history: group only (in memory)", 10, || {
        Ok(ReleaseNotes::new(&range).commit_count())
    })?;
    report("whole history: read + group + JSON", 5, || {
        let range = read_range(&repo, RangeStart::Beginning, "HEAD", &policy)?;
        Ok(ReleaseNotes::new(&range).to_json().len())
    })?;
    report("release range v1.49.0..v1.50.0: Markdown", 50, || {
        let range = read_range(&repo, RangeStart::Ref(RANGE.0), RANGE.1, &policy)?;
        Ok(ReleaseNotes::new(&range).to_markdown().len())
    })?;
    report(
        "release range, default from (previous release of v1.50.0)",
        20,
        || {
            let range = read_range(&repo, RangeStart::PreviousRelease, RANGE.1, &policy)?;
            Ok(ReleaseNotes::new(&range).to_markdown().len())
        },
    )?;
    report(
        "release auto: bump since the previous release of HEAD",
        20,
        || {
            let range = read_range(&repo, RangeStart::PreviousRelease, "HEAD", &policy)?;
            Ok(ReleaseNotes::new(&range)
                .bump()
                .map_or(0, |bump| bump as usize))
        },
    )?;
    let whole = ReleaseNotes::new(&read_range(&repo, RangeStart::Beginning, "HEAD", &policy)?);
    report(
        "bump inference alone, whole history (in memory)",
        50,
        || Ok(whole.bump().map_or(0, |bump| bump as usize)),
    )?;
    Ok(())
}

/// Runs `work` `runs` times and prints the median and the fastest wall time.
fn report(
    name: &str,
    runs: usize,
    mut work: impl FnMut() -> Result<usize, Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut output = 0;
    for _ in 0..runs {
        let start = Instant::now();
        output = std::hint::black_box(work()?);
        times.push(start.elapsed());
    }
    times.sort_unstable();
    println!(
        "{name:<62} median {:>9.3} ms  min {:>9.3} ms  ({runs} runs, output {output})",
        millis(times[runs / 2]),
        millis(times[0]),
    );
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `target/release-notes-bench`, next to the build output.
fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("release-notes-bench")
}

/// Generates the repository unless a complete one is already there.
fn ensure_repository(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let done = path.join("GENERATED");
    if done.exists() {
        return Ok(());
    }
    let start = Instant::now();
    if path.exists() {
        std::fs::remove_dir_all(path)?;
    }
    std::fs::create_dir_all(path)?;
    git(path, &["init", "-q", "-b", "main"])?;
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet", "--done"])
        .current_dir(path)
        .stdin(Stdio::piped())
        .spawn()?;
    {
        let stdin = import.stdin.as_mut().ok_or("fast-import has no stdin")?;
        let mut stream = std::io::BufWriter::new(stdin);
        write_stream(&mut stream)?;
        stream.flush()?;
    }
    if !import.wait()?.success() {
        return Err("git fast-import failed".into());
    }
    git(path, &["symbolic-ref", "HEAD", "refs/heads/main"])?;
    git(path, &["gc", "-q"])?;
    std::fs::write(done, "")?;
    println!(
        "generated {} in {:.1} s",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let status = Command::new("git").args(args).current_dir(dir).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("git {args:?} failed").into())
    }
}

const AUTHORS: [(&str, &str); 6] = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Edsger Dijkstra", "edsger@example.com"),
    ("Barbara Liskov", "barbara@example.com"),
    ("Ken Thompson", "ken@example.com"),
];
const TYPES: [&str; 12] = [
    "feat", "fix", "fix", "docs", "chore", "refactor", "perf", "test", "ci", "build", "style",
    "fix",
];
const SCOPES: [&str; 6] = ["api", "cli", "core", "deploy", "probe", "notes"];
const WORDS: [&str; 16] = [
    "handle",
    "retry",
    "timeout",
    "tag",
    "release",
    "config",
    "health",
    "deploy",
    "cache",
    "parse",
    "render",
    "commit",
    "staging",
    "production",
    "rollback",
    "header",
];

/// A deterministic pseudo-random generator (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

/// Writes the fast-import stream: a main line of conventional commits (10% plain, 1% breaking,
/// some with bodies and footers), a two-commit side branch merged every 500 commits, and an
/// annotated tag every 100 commits (`v1.0.0`, `v1.1.0`, ...).
fn write_stream(out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut random = Lcg(42);
    let mut mark = 0usize;
    let mut main_tip: Option<usize> = None;
    let base_time = 1_600_000_000u64;
    let message = |random: &mut Lcg, index: usize| -> String {
        let words = format!(
            "{} {} {}",
            WORDS[random.next(WORDS.len())],
            WORDS[random.next(WORDS.len())],
            WORDS[random.next(WORDS.len())]
        );
        let roll = random.next(100);
        let mut text = if roll < 10 {
            format!("Update {words} ({index})")
        } else {
            let kind = TYPES[random.next(TYPES.len())];
            let scope = if random.next(2) == 0 {
                format!("({})", SCOPES[random.next(SCOPES.len())])
            } else {
                String::new()
            };
            let bang = if roll == 99 { "!" } else { "" };
            format!("{kind}{scope}{bang}: {words} ({index})")
        };
        if random.next(4) == 0 {
            text.push_str(
                "\n\nThis explains the change in a short paragraph\nthat wraps onto a second line.",
            );
        }
        if random.next(5) == 0 {
            text.push_str(&format!(
                "\n\nRefs #{}\nReviewed-by: {}",
                index,
                AUTHORS[random.next(AUTHORS.len())].0
            ));
        }
        text.push('\n');
        text
    };
    let mut commit = |out: &mut dyn std::io::Write,
                      random: &mut Lcg,
                      branch: &str,
                      from: Option<usize>,
                      merge: Option<usize>,
                      text: &str,
                      index: usize|
     -> std::io::Result<usize> {
        mark += 1;
        let (name, email) = AUTHORS[random.next(AUTHORS.len())];
        let time = base_time + index as u64 * 600;
        writeln!(out, "commit refs/heads/{branch}\nmark :{mark}")?;
        writeln!(out, "author {name} <{email}> {time} +0000")?;
        writeln!(out, "committer {name} <{email}> {time} +0000")?;
        writeln!(out, "data {}\n{text}", text.len())?;
        if let Some(from) = from {
            writeln!(out, "from :{from}")?;
        }
        if let Some(merge) = merge {
            writeln!(out, "merge :{merge}")?;
        }
        writeln!(
            out,
            "M 644 inline src/file{}.txt\ndata <<EOF\n{index}\nEOF\n",
            index % 64
        )?;
        Ok(mark)
    };
    let mut tag = 0usize;
    for index in 1..=COMMITS {
        if index % 500 == 250 {
            // A side branch of two commits, merged back.
            let first_text = message(&mut random, index);
            let first = commit(out, &mut random, "side", main_tip, None, &first_text, index)?;
            let second_text = message(&mut random, index);
            let second = commit(
                out,
                &mut random,
                "side",
                Some(first),
                None,
                &second_text,
                index,
            )?;
            let text = format!("Merge branch 'side' ({index})\n");
            main_tip = Some(commit(
                out,
                &mut random,
                "main",
                main_tip,
                Some(second),
                &text,
                index,
            )?);
            continue;
        }
        let text = message(&mut random, index);
        main_tip = Some(commit(
            out,
            &mut random,
            "main",
            main_tip,
            None,
            &text,
            index,
        )?);
        if index % COMMITS_PER_TAG == 0 {
            let name = format!("v1.{tag}.0");
            tag += 1;
            let time = base_time + index as u64 * 600 + 60;
            let body = format!("{name}\n");
            writeln!(out, "tag {name}\nfrom :{}", main_tip.unwrap_or_default())?;
            writeln!(out, "tagger Ada Lovelace <ada@example.com> {time} +0000")?;
            writeln!(out, "data {}\n{body}", body.len())?;
        }
    }
    writeln!(out, "done")?;
    Ok(())
}
