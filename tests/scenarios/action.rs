//! The GitHub Action (`action.yml`) and its install script (`action/install.sh`), run as a
//! runner would run them against a fake release served on loopback: a release layout in a
//! tempdir (an archive whose `stagegate` is a shell script printing its version, and the
//! archive's `.sha256`), a small file server that records every request, and the runner's
//! `RUNNER_*`/`GITHUB_*` files pointing into the same tempdir.
//!
//! The script needs what it needs on a runner: bash, curl, tar with the archive's compressor,
//! and sha256sum or shasum.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What `RUNNER_OS=Linux RUNNER_ARCH=X64` resolves to.
const TARGET: &str = "x86_64-unknown-linux-musl";

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn script() -> PathBuf {
    repository_root().join("action").join("install.sh")
}

/// The unix archive extension, read from the script so that both change together.
fn archive_extension() -> String {
    let script = fs::read_to_string(script()).unwrap();
    script
        .lines()
        .find_map(|line| line.strip_prefix("ARCHIVE_EXTENSION_UNIX="))
        .map(|value| value.trim().trim_matches('"').to_owned())
        .expect("install.sh sets ARCHIVE_EXTENSION_UNIX")
}

fn archive_name() -> String {
    format!("stagegate-{TARGET}.{}", archive_extension())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        text(&output.stderr)
    );
    output
}

fn sha256_hex(path: &Path) -> String {
    let output = run(Command::new("sha256sum").arg(path));
    text(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A file server on 127.0.0.1 for one directory: `GET /a/b` answers the file `a/b` or 404.
/// Records every request path; stops when dropped.
struct FileServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    fn start(root: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // A client that hangs up early is the client's problem, not the server's.
                        let _ = answer(&root, stream, &requests);
                    }
                }
            }
        });
        Self {
            address,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(
    root: &Path,
    mut stream: TcpStream,
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    // A safety net against a client that never finishes its request, not a speed assumption.
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    requests.lock().unwrap().push(path.clone());
    let file = Some(root.join(path.trim_start_matches('/')))
        .filter(|_| !path.contains(".."))
        .filter(|file| file.is_file());
    let (status, body) = match file {
        Some(file) => ("200 OK", fs::read(file)?),
        None => ("404 Not Found", b"Not Found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

/// A tempdir holding a fake release layout (`release/`), the server for it, and the runner's
/// directories and files (`tool-cache/`, `runner-temp/`, `github-path`, `github-output`).
struct Fixture {
    root: tempfile::TempDir,
    server: FileServer,
}

/// How a checksum file names its archive.
#[derive(Debug, Clone, Copy)]
enum ChecksumFormat {
    /// `sha256sum`'s text mode: `<hex>  <name>`.
    Text,
    /// `sha256sum -b` and `shasum`'s binary mode: `<hex> *<name>`.
    Binary,
    /// Only `<hex>`.
    Bare,
}

/// The outcome of one run of the install script.
struct Install {
    output: Output,
}

impl Install {
    fn succeeded(&self) -> bool {
        self.output.status.success()
    }

    fn stdout(&self) -> String {
        text(&self.output.stdout)
    }

    fn report(&self) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.output.status.code(),
            self.stdout(),
            text(&self.output.stderr)
        )
    }

    /// The single `::error` annotation of a failed run, after checking it is the only one.
    fn error(&self) -> String {
        assert_eq!(self.output.status.code(), Some(1), "{}", self.report());
        let stdout = self.stdout();
        let errors: Vec<&str> = stdout
            .lines()
            .filter(|line| line.starts_with("::error"))
            .collect();
        assert_eq!(errors.len(), 1, "{}", self.report());
        errors[0].to_owned()
    }
}

impl Fixture {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        for directory in ["release", "tool-cache", "runner-temp", "staging"] {
            fs::create_dir(root.path().join(directory)).unwrap();
        }
        let server = FileServer::start(root.path().join("release"));
        Self { root, server }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    fn install_dir(&self, version: &str) -> PathBuf {
        self.path("tool-cache")
            .join("stagegate")
            .join(version)
            .join(TARGET)
    }

    /// Publish `v{version}` whose binary reports `stagegate {reports}`, with its checksum file.
    fn publish(&self, version: &str, reports: &str, format: ChecksumFormat) {
        let folder = format!("stagegate-{TARGET}");
        let staging = self.path("staging").join(version);
        let content = staging.join(&folder);
        fs::create_dir_all(&content).unwrap();
        let binary = content.join("stagegate");
        fs::write(
            &binary,
            format!("#!/bin/sh\necho \"stagegate {reports}\"\n"),
        )
        .unwrap();
        make_executable(&binary);
        fs::write(content.join("README.md"), "# stagegate\n").unwrap();
        fs::write(content.join("LICENSE-MIT"), "MIT\n").unwrap();

        let directory = self.path("release").join(format!("v{version}"));
        fs::create_dir_all(&directory).unwrap();
        let archive = directory.join(archive_name());
        run(Command::new("tar")
            .arg("-C")
            .arg(&staging)
            .arg("-caf")
            .arg(&archive)
            .arg(&folder));
        let hash = sha256_hex(&archive);
        let line = match format {
            ChecksumFormat::Text => format!("{hash}  {}\n", archive_name()),
            ChecksumFormat::Binary => format!("{hash} *{}\n", archive_name()),
            ChecksumFormat::Bare => format!("{hash}\n"),
        };
        self.write_checksum(version, &line);
    }

    fn write_checksum(&self, version: &str, content: &str) {
        let file = self
            .path("release")
            .join(format!("v{version}"))
            .join(format!("{}.sha256", archive_name()));
        fs::write(file, content).unwrap();
    }

    fn install(&self, version: Option<&str>) -> Install {
        self.run_script("install", version, "Linux", "X64", &self.server.url())
    }

    fn run_script(
        &self,
        mode: &str,
        version: Option<&str>,
        os: &str,
        arch: &str,
        download_url: &str,
    ) -> Install {
        let mut command = Command::new("bash");
        command
            .arg(script())
            .arg(mode)
            .env_clear()
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TOOL_CACHE", self.path("tool-cache"))
            .env("RUNNER_TEMP", self.path("runner-temp"))
            .env("GITHUB_PATH", self.path("github-path"))
            .env("GITHUB_OUTPUT", self.path("github-output"))
            .env("GITHUB_ACTION_PATH", repository_root())
            .env("INPUT_VERSION", version.unwrap_or(""))
            .env("INPUT_DOWNLOAD_URL", download_url)
            .stdin(Stdio::null());
        for name in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        Install {
            output: command.output().unwrap(),
        }
    }

    /// The `key=value` lines of `$GITHUB_OUTPUT`, cleared for the next run.
    fn take_outputs(&self) -> BTreeMap<String, String> {
        let file = self.path("github-output");
        let content = fs::read_to_string(&file).unwrap_or_default();
        let _ = fs::remove_file(&file);
        content
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    fn github_path(&self) -> Vec<String> {
        fs::read_to_string(self.path("github-path"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Every file the script may have written: all but the release layout and its sources.
    fn written_files(&self) -> BTreeSet<String> {
        let mut files = BTreeSet::new();
        collect_files(self.root.path(), self.root.path(), &mut files);
        files
            .into_iter()
            .filter(|file| !file.starts_with("release/") && !file.starts_with("staging/"))
            .collect()
    }

    fn release_requests(&self, version: &str) -> Vec<String> {
        let archive = format!("/v{version}/{}", archive_name());
        vec![format!("{archive}.sha256"), archive]
    }
}

fn collect_files(root: &Path, directory: &Path, files: &mut BTreeSet<String>) {
    for entry in fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).unwrap();
            files.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) {}

fn installed_files(version: &str) -> BTreeSet<String> {
    [
        format!("tool-cache/stagegate/{version}/{TARGET}/stagegate"),
        "github-output".to_owned(),
        "github-path".to_owned(),
    ]
    .into_iter()
    .collect()
}

#[test]
fn installs_the_requested_version_and_puts_it_on_path() {
    let fixture = Fixture::new();
    fixture.publish("1.2.3", "1.2.3", ChecksumFormat::Text);

    let install = fixture.install(Some("v1.2.3"));

    assert!(install.succeeded(), "{}", install.report());
    let directory = fixture.install_dir("1.2.3");
    let binary = directory.join("stagegate");
    let version = run(Command::new(&binary).arg("--version"));
    assert_eq!(text(&version.stdout).trim(), "stagegate 1.2.3");
    assert_eq!(
        fixture.github_path(),
        [directory.to_string_lossy().into_owned()]
    );
    assert_eq!(fixture.server.requests(), fixture.release_requests("1.2.3"));
    // Nothing but the binary, the runner's files and an emptied temp directory.
    assert_eq!(fixture.written_files(), installed_files("1.2.3"));
    assert!(
        fs::read_dir(fixture.path("runner-temp"))
            .unwrap()
            .next()
            .is_none()
    );
    let outputs = fixture.take_outputs();
    assert_eq!(outputs["version"], "1.2.3");
    assert_eq!(outputs["path"], binary.to_string_lossy());
    assert_eq!(outputs["cache-hit"], "false");
}

#[test]
fn a_second_run_uses_the_installed_binary_without_downloading() {
    let fixture = Fixture::new();
    fixture.publish("1.2.3", "1.2.3", ChecksumFormat::Text);
    let first = fixture.install(Some("1.2.3"));
    assert!(first.succeeded(), "{}", first.report());
    fixture.take_outputs();
    let requests = fixture.server.requests().len();

    let second = fixture.install(Some("1.2.3"));

    assert!(second.succeeded(), "{}", second.report());
    assert_eq!(fixture.server.requests().len(), requests);
    let outputs = fixture.take_outputs();
    assert_eq!(outputs["cache-hit"], "true");
    assert_eq!(outputs["version"], "1.2.3");
    let directory = fixture.install_dir("1.2.3").to_string_lossy().into_owned();
    assert_eq!(fixture.github_path(), [directory.clone(), directory]);
}

#[test]
fn a_checksum_mismatch_installs_nothing() {
    let fixture = Fixture::new();
    fixture.publish("1.2.3", "1.2.3", ChecksumFormat::Text);
    let wrong = "0".repeat(64);
    fixture.write_checksum("1.2.3", &format!("{wrong}  {}\n", archive_name()));

    let install = fixture.install(Some("1.2.3"));

    let error = install.error();
    assert!(error.contains("checksum mismatch"), "{error}");
    assert!(error.contains(&archive_name()), "{error}");
    assert!(error.contains(&wrong), "{error}");
    assert!(error.contains("Nothing was installed"), "{error}");
    assert!(!fixture.install_dir("1.2.3").exists());
    assert!(fixture.github_path().is_empty());
    assert!(fixture.take_outputs().is_empty());
    assert!(
        fixture.written_files().is_empty(),
        "{:?}",
        fixture.written_files()
    );
}

#[test]
fn an_unreleased_version_fails_naming_it() {
    let fixture = Fixture::new();
    fixture.publish("1.2.3", "1.2.3", ChecksumFormat::Text);

    let install = fixture.install(Some("v9.9.9"));

    let error = install.error();
    assert!(error.contains("stagegate 9.9.9 is not released"), "{error}");
    assert!(error.contains("404"), "{error}");
    assert!(error.contains("version input"), "{error}");
    assert!(
        fixture.written_files().is_empty(),
        "{:?}",
        fixture.written_files()
    );
}

#[test]
fn an_unsupported_platform_fails_naming_it_before_any_download() {
    let fixture = Fixture::new();
    fixture.publish("1.2.3", "1.2.3", ChecksumFormat::Text);

    for (os, arch) in [("Linux", "ARM"), ("Linux", "X86"), ("Windows", "ARM64")] {
        for mode in ["plan", "install"] {
            let install = fixture.run_script(mode, Some("1.2.3"), os, arch, &fixture.server.url());

            let error = install.error();
            assert!(
                error.contains(&format!("no prebuilt binary for {os} {arch}")),
                "{error}"
            );
        }
    }
    assert!(fixture.server.requests().is_empty());
    assert!(
        fixture.written_files().is_empty(),
        "{:?}",
        fixture.written_files()
    );
}

#[test]
fn without_a_version_it_installs_the_version_of_the_actions_commit() {
    // This package's version is the workspace's: `version.workspace = true`.
    let workspace_version = env!("CARGO_PKG_VERSION");
    let fixture = Fixture::new();
    fixture.publish(workspace_version, workspace_version, ChecksumFormat::Text);

    let install = fixture.install(None);

    assert!(install.succeeded(), "{}", install.report());
    assert_eq!(fixture.take_outputs()["version"], workspace_version);
    assert_eq!(
        fixture.server.requests(),
        fixture.release_requests(workspace_version)
    );
}

#[test]
fn without_a_version_an_unreleased_commit_says_how_to_pin_one() {
    let fixture = Fixture::new();

    let install = fixture.install(None);

    let error = install.error();
    let workspace_version = env!("CARGO_PKG_VERSION");
    assert!(
        error.contains(&format!(
            "stagegate {workspace_version}, the version of this action's commit"
        )),
        "{error}"
    );
    assert!(error.contains("Cargo.toml"), "{error}");
}

#[test]
fn every_checksum_file_format_is_accepted() {
    for format in [
        ChecksumFormat::Text,
        ChecksumFormat::Binary,
        ChecksumFormat::Bare,
    ] {
        let fixture = Fixture::new();
        fixture.publish("2.0.0-rc.1", "2.0.0-rc.1", format);

        let install = fixture.install(Some("v2.0.0-rc.1"));

        assert!(install.succeeded(), "{format:?}: {}", install.report());
        assert_eq!(fixture.written_files(), installed_files("2.0.0-rc.1"));
    }
}

#[test]
fn a_binary_that_reports_another_version_is_not_installed() {
    let fixture = Fixture::new();
    fixture.publish("1.2.3", "1.2.2", ChecksumFormat::Text);

    let install = fixture.install(Some("1.2.3"));

    let error = install.error();
    assert!(error.contains("stagegate 1.2.2"), "{error}");
    assert!(error.contains("not stagegate 1.2.3"), "{error}");
    assert!(
        fixture.written_files().is_empty(),
        "{:?}",
        fixture.written_files()
    );
}

#[test]
fn a_malformed_version_fails_before_any_download() {
    let fixture = Fixture::new();

    for version in ["1.2", "latest", "v1.2.3.4"] {
        let install = fixture.install(Some(version));

        let error = install.error();
        assert!(error.contains(&format!("version '{version}'")), "{error}");
    }
    assert!(fixture.server.requests().is_empty());
}

#[test]
fn a_plain_http_mirror_is_refused_unless_it_is_loopback() {
    let fixture = Fixture::new();

    let install = fixture.run_script(
        "install",
        Some("1.2.3"),
        "Linux",
        "X64",
        "http://mirror.example.com/stagegate",
    );

    let error = install.error();
    assert!(
        error.contains("http://mirror.example.com/stagegate"),
        "{error}"
    );
    assert!(error.contains("https"), "{error}");
    assert!(
        fixture.written_files().is_empty(),
        "{:?}",
        fixture.written_files()
    );
}

#[test]
fn plan_resolves_the_cache_key_without_downloading() {
    let fixture = Fixture::new();

    let plan = fixture.run_script(
        "plan",
        Some("v1.2.3"),
        "macOS",
        "ARM64",
        &fixture.server.url(),
    );

    assert!(plan.succeeded(), "{}", plan.report());
    let outputs = fixture.take_outputs();
    assert_eq!(outputs["version"], "1.2.3");
    assert_eq!(outputs["target"], "aarch64-apple-darwin");
    let directory = fixture
        .path("tool-cache")
        .join("stagegate/1.2.3/aarch64-apple-darwin");
    assert_eq!(outputs["dir"], directory.to_string_lossy());
    assert!(fixture.server.requests().is_empty());
    assert!(fixture.github_path().is_empty());
}

/// The keys one level under a top-level `section:` of a YAML file.
fn yaml_keys(yaml: &str, section: &str) -> BTreeSet<String> {
    let header = format!("{section}:");
    yaml.lines()
        .skip_while(|line| line.trim_end() != header)
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' ') || line.starts_with('#'))
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.trim().strip_suffix(':'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn action_yml_declares_the_documented_inputs_and_outputs() {
    let action = fs::read_to_string(repository_root().join("action.yml")).unwrap();
    let docs = fs::read_to_string(repository_root().join("docs").join("ACTION.md")).unwrap();

    let inputs = yaml_keys(&action, "inputs");
    let outputs = yaml_keys(&action, "outputs");

    assert_eq!(
        inputs,
        BTreeSet::from(["version".to_owned(), "download-url".to_owned()])
    );
    assert_eq!(
        outputs,
        BTreeSet::from([
            "version".to_owned(),
            "path".to_owned(),
            "cache-hit".to_owned()
        ])
    );
    for name in inputs.iter().chain(&outputs) {
        assert!(
            docs.contains(&format!("| `{name}` |")),
            "docs/ACTION.md has no table row for `{name}`"
        );
    }
    assert!(action.contains("using: composite"));
    for output in &outputs {
        assert!(
            action.contains(&format!("value: ${{{{ steps.install.outputs.{output} }}}}")),
            "output {output} is not the install step's"
        );
    }
}

#[test]
fn action_yml_pins_every_action_and_keeps_expressions_out_of_scripts() {
    let action = fs::read_to_string(repository_root().join("action.yml")).unwrap();

    let mut uses = 0;
    let mut run_indent: Option<usize> = None;
    for line in action.lines() {
        let indent = line.len() - line.trim_start().len();
        let content = line.trim_start().trim_start_matches("- ");
        if run_indent.is_some_and(|run| indent > run || line.trim().is_empty()) {
            assert!(!line.contains("${{"), "expression in a run script: {line}");
            continue;
        }
        run_indent = None;
        if let Some(script) = content.strip_prefix("run:") {
            assert!(
                !script.contains("${{"),
                "expression in a run script: {line}"
            );
            run_indent = Some(indent);
        }
        if let Some(action) = content.strip_prefix("uses:") {
            uses += 1;
            let (_, reference) = action.trim().split_once('@').expect(line);
            let (sha, comment) = reference.split_once(" # v").expect(line);
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{line}"
            );
            assert!(!comment.is_empty(), "{line}");
        }
    }
    assert!(
        uses > 0,
        "action.yml uses no action: the cache step is missing"
    );
}

/// The value of `key = "..."` (TOML) or `key="..."` (shell) on the first line that sets it.
fn toml_string(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|line| {
            let line = line.trim();
            line.strip_prefix(&format!("{key} = "))
                .or_else(|| line.strip_prefix(&format!("{key}=")))
        })
        .map(|value| value.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("no `{key} = ...` line"))
}

#[test]
fn the_action_binstall_and_the_release_agree_on_the_archive_layout() {
    let root = repository_root();
    let extension = archive_extension();
    let dist = fs::read_to_string(root.join("dist-workspace.toml")).unwrap();
    assert_eq!(toml_string(&dist, "unix-archive"), format!(".{extension}"));
    assert_eq!(toml_string(&dist, "windows-archive"), ".zip");
    assert_eq!(toml_string(&dist, "checksum"), "sha256");

    let manifest = fs::read_to_string(root.join("crates/stagegate/Cargo.toml")).unwrap();
    let binstall = &manifest[manifest
        .find("[package.metadata.binstall]")
        .expect("crates/stagegate/Cargo.toml has binstall metadata")..];
    let url = toml_string(binstall, "pkg-url")
        .replace("{ repo }", "https://github.com/stagegate/stagegate")
        .replace("{ version }", "1.2.3")
        .replace("{ name }", "stagegate")
        .replace("{ target }", TARGET);
    let action_default = toml_string(
        &fs::read_to_string(script()).unwrap(),
        "DEFAULT_DOWNLOAD_URL",
    );
    assert_eq!(url, format!("{action_default}/v1.2.3/{}", archive_name()));
    assert_eq!(
        toml_string(binstall, "bin-dir"),
        "{ name }-{ target }/{ bin }{ binary-ext }",
        "the archives hold stagegate-{{target}}/stagegate"
    );
}
