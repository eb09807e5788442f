//! The commits of `from..to`, oldest first, each read from the object database and parsed once.
//!
//! libgit2's revwalk parses every commit it visits, and reading the commits it returns with
//! `find_commit` parsed each of them a second time and filled the repository's object cache.
//! This walk reads raw commit objects through the ODB, parses the header itself (parents,
//! author, committer time, message) and keeps what the notes need, in the order
//! `Revwalk` gives with `Sort::TOPOLOGICAL | Sort::REVERSE` and `to` pushed, `from` hidden:
//!
//! 1. *Limiting*, by commit date: a list of commits newest first starts with `from` (hidden) and
//!    `to`; each commit taken from it adds its parents. Ancestors of a hidden commit are hidden.
//!    The walk stops once the list holds only hidden commits no newer than the last shown one, for
//!    [`SLOP`] more commits in a row (clock skew); it never walks all of `from`'s history.
//! 2. *Topological order*: the shown commits, children before parents, popping from a stack of
//!    the commits whose children have all been emitted (the first tips in walk order first), then
//!    reversed. Commits found hidden after they were listed are left out.
//!
//! Grafts (`info/grafts`) and a shallow clone's boundary (`shallow`) replace a commit's parents,
//! as libgit2 does when it parses a commit. The unit tests compare the walk with libgit2's on
//! generated histories.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::path::Path;

use git2::{ObjectType, Odb, Oid, Repository};

use crate::commit::{Commit, Person, Timestamp};
use crate::error::Error;

/// How many hidden commits the limiting goes on taking once only hidden commits are left: a
/// commit dated before its parent (clock skew) may still lead to a shown commit. libgit2 and git
/// use the same number.
const SLOP: u8 = 5;

/// The commits of a walk, and whether one of them has the hidden `from` as a parent.
pub(super) struct Walked {
    pub(super) commits: Vec<Commit>,
    pub(super) reaches_from: bool,
}

/// Walks `to` hiding `from`, oldest first, converting each shown commit.
pub(super) fn walk(repo: &Repository, from: Option<Oid>, to: Oid) -> Result<Walked, Error> {
    let mut graph = Graph::new(repo)?;
    let to = graph.lookup(to);
    // libgit2 keeps its input newest first: `from`, hidden after `to` was pushed, comes first.
    let mut input = Vec::with_capacity(2);
    let from = from.map(|from| graph.lookup(from));
    if let Some(from) = from {
        graph.nodes[from].hidden = true;
        input.push(from);
    }
    input.push(to);

    let mut list = VecDeque::new();
    for node in input {
        graph.parse(node)?;
        if graph.nodes[node].hidden {
            graph.hide_ancestors(node);
        }
        if !graph.nodes[node].seen {
            graph.nodes[node].seen = true;
            list.push_back(node);
        }
    }
    let shown = graph.limit(list)?;
    let order = graph.topological_order(&shown);

    let mut commits = Vec::with_capacity(order.len());
    let mut reaches_from = false;
    for &node in order.iter().rev() {
        let node = &mut graph.nodes[node];
        if node.hidden {
            continue;
        }
        if let Some(from) = from
            && !reaches_from
        {
            reaches_from = node.parents.contains(&from);
        }
        if let Some(raw) = node.raw.take() {
            commits.push(raw.convert(node.oid, node.time, node.parents.len()));
        }
    }
    Ok(Walked {
        commits,
        reaches_from,
    })
}

/// A commit of the walk: known by id first, parsed when the walk reaches it.
struct Node {
    oid: Oid,
    /// Committer time in seconds (valid once parsed).
    time: i64,
    /// Indices of the parents in [`Graph::nodes`] (once parsed), in commit order.
    parents: Vec<usize>,
    /// The raw commit, kept for the conversion of shown commits.
    raw: Option<RawCommit>,
    parsed: bool,
    /// Reachable from `from`.
    hidden: bool,
    /// Inserted in the date list once already (shown side).
    seen: bool,
    /// Its parents were added to the date list.
    added: bool,
}

struct Graph<'repo> {
    odb: Odb<'repo>,
    /// Replaced parents by commit, from `info/grafts` and `shallow`.
    grafts: HashMap<Oid, Vec<Oid>>,
    nodes: Vec<Node>,
    index: HashMap<Oid, usize, BuildHasherDefault<OidHasher>>,
}

/// Hashes object ids by mixing their bytes eight at a time: they are uniformly distributed
/// already, and SipHash took 4% of the walk.
#[derive(Default)]
struct OidHasher(u64);

impl Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(23) ^ u64::from_le_bytes(word);
        }
    }
}

impl<'repo> Graph<'repo> {
    fn new(repo: &'repo Repository) -> Result<Self, Error> {
        let odb = repo
            .odb()
            .map_err(|source| Error::git("open the object database", source))?;
        Ok(Self {
            odb,
            grafts: grafts(repo)?,
            nodes: Vec::new(),
            index: HashMap::default(),
        })
    }

    fn lookup(&mut self, oid: Oid) -> usize {
        *self.index.entry(oid).or_insert_with(|| {
            self.nodes.push(Node {
                oid,
                time: 0,
                parents: Vec::new(),
                raw: None,
                parsed: false,
                hidden: false,
                seen: false,
                added: false,
            });
            self.nodes.len() - 1
        })
    }

    /// Reads and parses a commit once; its parents become nodes.
    fn parse(&mut self, node: usize) -> Result<(), Error> {
        if self.nodes[node].parsed {
            return Ok(());
        }
        let oid = self.nodes[node].oid;
        let object = self
            .odb
            .read(oid)
            .map_err(|source| Error::git("read a commit", source))?;
        if object.kind() != ObjectType::Commit {
            return Err(Error::git(
                "read a commit",
                git2::Error::from_str(&format!(
                    "object {oid} is a {}, not a commit",
                    object.kind().str()
                )),
            ));
        }
        let data: Box<[u8]> = object.data().into();
        drop(object);
        let header = Header::parse(&data).map_err(|reason| {
            Error::git(
                "read a commit",
                git2::Error::from_str(&format!("malformed commit {oid}: {reason}")),
            )
        })?;
        let parent_ids = match self.grafts.get(&oid) {
            Some(grafted) => grafted.clone(),
            None => header.parents,
        };
        let parents = parent_ids
            .into_iter()
            .map(|parent| self.lookup(parent))
            .collect();
        let node = &mut self.nodes[node];
        node.time = header.time;
        node.parents = parents;
        node.raw = Some(RawCommit {
            data,
            author: header.author,
            offset_minutes: header.offset_minutes,
            message: header.message,
        });
        node.parsed = true;
        Ok(())
    }

    /// Hides the ancestors of `node` that the walk has parsed, stopping at hidden commits.
    fn hide_ancestors(&mut self, node: usize) {
        let mut pending: Vec<usize> = self.nodes[node].parents.clone();
        while let Some(next) = pending.pop() {
            let next = &mut self.nodes[next];
            if next.hidden {
                continue;
            }
            next.hidden = true;
            pending.extend_from_slice(&next.parents);
        }
    }

    /// Inserts `node` before the first commit of `list` older than it (after those as old).
    fn insert_by_date(&self, node: usize, list: &mut VecDeque<usize>) {
        let time = self.nodes[node].time;
        let at = list
            .iter()
            .position(|&other| self.nodes[other].time < time)
            .unwrap_or(list.len());
        list.insert(at, node);
    }

    /// Adds the parents of `node` to the date list, once per node.
    fn add_parents(&mut self, node: usize, list: &mut VecDeque<usize>) -> Result<(), Error> {
        if self.nodes[node].added {
            return Ok(());
        }
        self.nodes[node].added = true;
        let hidden = self.nodes[node].hidden;
        for index in 0..self.nodes[node].parents.len() {
            let parent = self.nodes[node].parents[index];
            if hidden {
                self.nodes[parent].hidden = true;
                self.parse(parent)?;
                self.hide_ancestors(parent);
                self.nodes[parent].seen = true;
                self.insert_by_date(parent, list);
            } else {
                self.parse(parent)?;
                if !self.nodes[parent].seen {
                    self.nodes[parent].seen = true;
                    self.insert_by_date(parent, list);
                }
            }
        }
        Ok(())
    }

    /// Takes commits newest first until only hidden ones are left; returns the shown ones in
    /// the order taken (some may be hidden later).
    fn limit(&mut self, mut list: VecDeque<usize>) -> Result<Vec<usize>, Error> {
        let mut slop = SLOP;
        let mut time = i64::MAX;
        let mut shown = Vec::new();
        while let Some(node) = list.pop_front() {
            self.add_parents(node, &mut list)?;
            if self.nodes[node].hidden {
                self.hide_ancestors(node);
                slop = self.still_interesting(&list, time, slop);
                if slop == 0 {
                    break;
                }
                continue;
            }
            time = self.nodes[node].time;
            shown.push(node);
        }
        Ok(shown)
    }

    /// `SLOP` while the list may still lead to a shown commit, one less per hidden commit
    /// taken once it cannot, 0 to stop.
    fn still_interesting(&self, list: &VecDeque<usize>, time: i64, slop: u8) -> u8 {
        let Some(&first) = list.front() else {
            return 0;
        };
        if time <= self.nodes[first].time {
            return SLOP;
        }
        let open = list.iter().any(|&node| {
            let node = &self.nodes[node];
            !node.hidden || node.time > time
        });
        if open { SLOP } else { slop - 1 }
    }

    /// Children before parents: a stack of the commits all of whose children were emitted,
    /// starting with the tips in the order they were taken.
    fn topological_order(&self, shown: &[usize]) -> Vec<usize> {
        // 0: not listed (or emitted), 1 + the number of listed children not yet emitted.
        let mut in_degree = vec![0_u32; self.nodes.len()];
        for &node in shown {
            in_degree[node] = 1;
        }
        for &node in shown {
            for &parent in &self.nodes[node].parents {
                if in_degree[parent] != 0 {
                    in_degree[parent] += 1;
                }
            }
        }
        let mut stack: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&node| in_degree[node] == 1)
            .collect();
        stack.reverse();
        let mut order = Vec::with_capacity(shown.len());
        while let Some(node) = stack.pop() {
            for &parent in &self.nodes[node].parents {
                if in_degree[parent] == 0 {
                    continue;
                }
                in_degree[parent] -= 1;
                if in_degree[parent] == 1 {
                    stack.push(parent);
                }
            }
            in_degree[node] = 0;
            order.push(node);
        }
        order
    }
}

/// A commit object's bytes and where the fields the notes read are.
struct RawCommit {
    data: Box<[u8]>,
    /// The author line after `author `.
    author: Range<usize>,
    offset_minutes: i32,
    /// Start of the message (may be past the end: no message).
    message: usize,
}

impl RawCommit {
    /// The commit as the notes read it, text decoded lossily (as `git2::Commit` gives it: up to
    /// a NUL byte, the message without leading newlines).
    fn convert(&self, oid: Oid, time: i64, parent_count: usize) -> Commit {
        let line = &self.data[self.author.clone()];
        let (name, email) = signature_parts(line).unwrap_or((b"", b""));
        let name = String::from_utf8_lossy(until_nul(name));
        let email = String::from_utf8_lossy(until_nul(email));
        let person = Person::new(name, Some(email.into_owned()));
        let message = self.data.get(self.message..).unwrap_or_default();
        let start = message
            .iter()
            .position(|&byte| byte != b'\n')
            .unwrap_or(message.len());
        let message = String::from_utf8_lossy(until_nul(&message[start..]));
        Commit::new(
            oid.to_string(),
            person,
            Timestamp::new(time, self.offset_minutes),
            &message,
        )
        .with_parent_count(parent_count)
    }
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&byte| byte == 0)
        .map_or(bytes, |end| &bytes[..end])
}

/// The fields of a commit header the walk and the notes use, parsed as libgit2 parses them.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    parents: Vec<Oid>,
    author: Range<usize>,
    time: i64,
    offset_minutes: i32,
    message: usize,
}

impl Header {
    fn parse(data: &[u8]) -> Result<Self, &'static str> {
        let mut at = 0;
        oid_line(data, &mut at, b"tree ").ok_or("no tree line")?;
        let mut parents = Vec::new();
        while let Some(parent) = oid_line(data, &mut at, b"parent ") {
            parents.push(parent);
        }
        let author = signature_line(data, &mut at, b"author ")?;
        // Some tools write several author lines; the first counts.
        while data[at..].starts_with(b"author ") {
            signature_line(data, &mut at, b"author ")?;
        }
        let committer = signature_line(data, &mut at, b"committer ")?;
        let (time, offset_minutes) = signature_time(&data[committer])?;
        // Other header fields (encoding, gpgsig, mergetag) run to the first empty line.
        while at < data.len() && !(data[at - 1] == b'\n' && data[at] == b'\n') {
            at = data[at..]
                .iter()
                .position(|&byte| byte == b'\n')
                .map_or(data.len(), |end| at + end + 1);
        }
        Ok(Self {
            parents,
            author,
            time,
            offset_minutes,
            message: at + 1,
        })
    }
}

/// `PREFIX <40 hex digits>\n` at `at`, moving past it.
fn oid_line(data: &[u8], at: &mut usize, prefix: &[u8]) -> Option<Oid> {
    let rest = data[*at..].strip_prefix(prefix)?;
    let hex = rest.get(..40)?;
    if rest.get(40) != Some(&b'\n') {
        return None;
    }
    let mut bytes = [0; 20];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    let oid = Oid::from_bytes(&bytes).ok()?;
    *at += prefix.len() + 41;
    Some(oid)
}

fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The range of a signature line's value after `prefix`, moving past the line.
fn signature_line(
    data: &[u8],
    at: &mut usize,
    prefix: &'static [u8],
) -> Result<Range<usize>, &'static str> {
    let missing = if prefix == b"author " {
        "no author line"
    } else {
        "no committer line"
    };
    let end = data[*at..]
        .iter()
        .position(|&byte| byte == b'\n')
        .map(|end| *at + end)
        .ok_or(missing)?;
    let line = &data[*at..end];
    if line.len() <= prefix.len() || !line.starts_with(prefix) {
        return Err(missing);
    }
    let value = *at + prefix.len()..end;
    signature_parts(&data[value.clone()]).ok_or(if prefix == b"author " {
        "malformed author e-mail"
    } else {
        "malformed committer e-mail"
    })?;
    *at = end + 1;
    Ok(value)
}

/// Name and e-mail of `Name <email> time zone`: around the last `<` and `>`, trimmed.
fn signature_parts(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let open = value.iter().rposition(|&byte| byte == b'<')?;
    let close = value.iter().rposition(|&byte| byte == b'>')?;
    if close <= open {
        return None;
    }
    Some((trim(&value[..open]), trim(&value[open + 1..close])))
}

fn trim(mut bytes: &[u8]) -> &[u8] {
    let crud = |byte: &u8| {
        *byte <= b' '
            || matches!(
                byte,
                b',' | b':' | b';' | b'<' | b'>' | b'"' | b'\\' | b'\''
            )
    };
    while let [first, rest @ ..] = bytes
        && crud(first)
    {
        bytes = rest;
    }
    while let [rest @ .., last] = bytes
        && crud(last)
    {
        bytes = rest;
    }
    bytes
}

/// Seconds and offset of a signature: 0 when absent, the offset 0 when malformed.
fn signature_time(value: &[u8]) -> Result<(i64, i32), &'static str> {
    let Some(close) = value.iter().rposition(|&byte| byte == b'>') else {
        return Err("malformed committer e-mail");
    };
    let Some(rest) = value.get(close + 2..).filter(|rest| !rest.is_empty()) else {
        return Ok((0, 0));
    };
    let (seconds, used) = integer(rest).ok_or("invalid commit time")?;
    let mut offset_minutes = 0;
    if let Some(zone) = rest.get(used + 1..).filter(|zone| !zone.is_empty()) {
        let offset = match zone.split_first() {
            Some((sign @ (b'+' | b'-'), digits)) => integer(digits)
                .and_then(|(offset, _)| i32::try_from(offset).ok())
                .map(|offset| (*sign, offset)),
            _ => None,
        };
        let (sign, offset) = offset.unwrap_or((b'+', 0));
        let (hours, minutes) = (offset / 100, offset % 100);
        if hours <= 14 && minutes <= 59 {
            offset_minutes = hours * 60 + minutes;
            if sign == b'-' {
                offset_minutes = -offset_minutes;
            }
        }
    }
    Ok((seconds, offset_minutes))
}

/// A decimal integer after optional white space and sign, and the bytes it took.
fn integer(bytes: &[u8]) -> Option<(i64, usize)> {
    let mut at = bytes
        .iter()
        .position(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(bytes.len());
    let negative = match bytes.get(at) {
        Some(b'-') => {
            at += 1;
            true
        }
        Some(b'+') => {
            at += 1;
            false
        }
        _ => false,
    };
    let digits = bytes[at..]
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let mut value: i64 = 0;
    for &digit in &bytes[at..at + digits] {
        let digit = i64::from(digit - b'0');
        value = value
            .checked_mul(10)?
            .checked_add(if negative { -digit } else { digit })?;
    }
    Some((value, at + digits))
}

/// Replaced parents: `info/grafts` (`commit parent...` per line) over the shallow boundary
/// (`shallow`, one commit per line, whose parents are not in the clone).
fn grafts(repo: &Repository) -> Result<HashMap<Oid, Vec<Oid>>, Error> {
    let mut grafts = HashMap::new();
    read_grafts(&repo.path().join("shallow"), &mut grafts)?;
    read_grafts(&repo.commondir().join("info").join("grafts"), &mut grafts)?;
    Ok(grafts)
}

fn read_grafts(path: &Path, grafts: &mut HashMap<Oid, Vec<Oid>>) -> Result<(), Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(Error::git(
                "read the grafts",
                git2::Error::from_str(&format!("{}: {error}", path.display())),
            ));
        }
    };
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let invalid = || {
            Error::git(
                "read the grafts",
                git2::Error::from_str(&format!(
                    "{} line {}: invalid commit id",
                    path.display(),
                    number + 1
                )),
            )
        };
        let mut ids = line
            .split(' ')
            .map(|id| Oid::from_str(id).ok().filter(|_| id.len() == 40));
        let commit = ids.next().flatten().ok_or_else(invalid)?;
        let parents = ids
            .map(|id| id.ok_or_else(invalid))
            .collect::<Result<_, _>>()?;
        grafts.insert(commit, parents);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use git2::{Signature, Sort, Time};
    use proptest::prelude::*;

    const TREE: &str = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n";

    #[test]
    fn header_reads_parents_author_committer_time_and_message() {
        let raw = format!(
            "{TREE}parent 1111111111111111111111111111111111111111\n\
             parent 2222222222222222222222222222222222222222\n\
             author  Ada Lovelace <ada@example.com> 1714550400 +0200\n\
             author Second Author <second@example.com> 1 +0000\n\
             committer Grace <grace@example.com> 1714550500 -0130\n\
             encoding ISO-8859-1\n\
             gpgsig -----BEGIN PGP SIGNATURE-----\n \n -----END PGP SIGNATURE-----\n\
             \n\n\nfeat: one\n\nbody\n"
        );
        let header = Header::parse(raw.as_bytes()).unwrap();
        assert_eq!(header.parents.len(), 2);
        assert_eq!(header.time, 1_714_550_500);
        assert_eq!(header.offset_minutes, -90);
        let raw_commit = RawCommit {
            data: raw.as_bytes().into(),
            author: header.author,
            offset_minutes: header.offset_minutes,
            message: header.message,
        };
        let commit = raw_commit.convert(Oid::ZERO_SHA1, header.time, 2);
        assert_eq!(commit.author().name(), "Ada Lovelace");
        assert_eq!(commit.author().email(), Some("ada@example.com"));
        assert_eq!(commit.message().summary(), "feat: one");
    }

    #[test]
    fn malformed_headers_are_errors_and_odd_times_read_as_libgit2_reads_them() {
        let committer = "committer C <c@example.com> 5 +0000\n\nm";
        for (raw, reason) in [
            (String::new(), "no tree line"),
            ("tree 12\n".to_owned(), "no tree line"),
            (format!("{TREE}{committer}"), "no author line"),
            (
                format!("{TREE}author A a@example.com 5 +0000\n{committer}"),
                "malformed author e-mail",
            ),
            (
                format!("{TREE}author A <a@example.com> 5 +0000\n"),
                "no committer line",
            ),
            (
                format!("{TREE}author A <a@example.com> 5\ncommitter C <c> x\n"),
                "invalid commit time",
            ),
        ] {
            assert_eq!(Header::parse(raw.as_bytes()), Err(reason), "{raw:?}");
        }
        for (line, time, offset) in [
            ("C <c>", 0, 0),
            ("C <c> 7", 7, 0),
            ("C <c> 7 +9999", 7, 0),
            ("C <c> 7 0100", 7, 0),
            ("C <c> 7 +0545", 7, 345),
        ] {
            let raw = format!("{TREE}author A <a> 1 +0000\ncommitter {line}\n");
            let header = Header::parse(raw.as_bytes()).unwrap();
            assert_eq!(
                (header.time, header.offset_minutes),
                (time, offset),
                "{line}"
            );
            assert_eq!(header.message, raw.len() + 1, "no message");
        }
    }

    /// A history described by, for each commit, its parents (earlier commits) and its
    /// committer time.
    type History = Vec<(Vec<usize>, i64)>;

    fn build(history: &History) -> (tempfile::TempDir, Repository, Vec<Oid>) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let mut oids: Vec<Oid> = Vec::new();
        {
            let tree = repo.find_tree(tree).unwrap();
            for (index, (parents, time)) in history.iter().enumerate() {
                let who = Signature::new("A", "a@example.com", &Time::new(*time, 60)).unwrap();
                let parents: Vec<git2::Commit<'_>> = parents
                    .iter()
                    .map(|&parent| repo.find_commit(oids[parent]).unwrap())
                    .collect();
                let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
                let message = format!("commit {index}\n");
                let oid = repo
                    .commit(None, &who, &who, &message, &tree, &parents)
                    .unwrap();
                oids.push(oid);
            }
        }
        (dir, repo, oids)
    }

    fn libgit2_walk(repo: &Repository, from: Option<Oid>, to: Oid) -> Vec<Oid> {
        let mut revwalk = repo.revwalk().unwrap();
        revwalk
            .set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .unwrap();
        revwalk.push(to).unwrap();
        if let Some(from) = from {
            revwalk.hide(from).unwrap();
        }
        revwalk.map(Result::unwrap).collect()
    }

    fn ids(walked: &Walked) -> Vec<Oid> {
        walked
            .commits
            .iter()
            .map(|commit| Oid::from_str(commit.id()).unwrap())
            .collect()
    }

    /// Histories of up to 40 commits, each with up to three parents among the 8 before it
    /// (merges, criss-crosses, several roots), dated with ties and clock skew.
    fn histories() -> impl Strategy<Value = History> {
        prop::collection::vec(
            (
                prop::collection::vec(1..=8_usize, 0..=3),
                0..6_i64,
                prop::bool::weighted(0.25),
            ),
            1..60,
        )
        .prop_map(|commits| {
            commits
                .into_iter()
                .enumerate()
                .map(|(index, (back, step, skewed))| {
                    let mut parents: Vec<usize> = back
                        .into_iter()
                        .filter(|&back| back <= index)
                        .map(|back| index - back)
                        .collect();
                    parents.dedup();
                    let base = 1_700_000_000 + 10 * i64::try_from(index).unwrap();
                    let time = if skewed { base - 300 } else { base + step };
                    (parents, time)
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn walk_lists_what_libgit2_lists_in_the_same_order(
            history in histories(),
            to in any::<prop::sample::Index>(),
            from in prop::option::of(any::<prop::sample::Index>()),
        ) {
            let (_dir, repo, oids) = build(&history);
            let to = oids[to.index(oids.len())];
            let from = from.map(|from| oids[from.index(oids.len())]);
            let walked = walk(&repo, from, to).unwrap();
            let ours = ids(&walked);
            prop_assert_eq!(&ours, &libgit2_walk(&repo, from, to));
            // Parents before children, each commit once.
            let position: HashMap<Oid, usize> =
                ours.iter().enumerate().map(|(at, oid)| (*oid, at)).collect();
            prop_assert_eq!(position.len(), ours.len());
            for (at, oid) in ours.iter().enumerate() {
                for parent in repo.find_commit(*oid).unwrap().parent_ids() {
                    if let Some(&parent_at) = position.get(&parent) {
                        prop_assert!(parent_at < at);
                    }
                }
            }
            if let Some(from) = from {
                let reaches = ours
                    .iter()
                    .any(|oid| repo.find_commit(*oid).unwrap().parent_ids().any(|p| p == from));
                prop_assert_eq!(walked.reaches_from, reaches);
            }
        }
    }

    #[test]
    fn commits_dated_before_their_parents_are_still_hidden() {
        // `from` reaches X through three commits dated long before it: the limiting has to go
        // on past the point where only hidden commits are left to find that out.
        let history: History = vec![
            (vec![], 1_700_000_090),  // 0: Y
            (vec![0], 1_700_000_100), // 1: X
            (vec![1], 1_700_000_110), // 2: to
            (vec![1], 1_700_000_030), // 3: C, skewed
            (vec![3], 1_700_000_040), // 4: B, skewed
            (vec![4], 1_700_000_050), // 5: A, skewed
            (vec![5], 1_700_000_120), // 6: from
        ];
        let (_dir, repo, oids) = build(&history);
        let walked = walk(&repo, Some(oids[6]), oids[2]).unwrap();
        assert_eq!(ids(&walked), vec![oids[2]]);
        assert_eq!(ids(&walked), libgit2_walk(&repo, Some(oids[6]), oids[2]));
        assert!(!walked.reaches_from);
    }

    #[test]
    fn a_walk_that_hides_a_long_history_stops_early_by_date() {
        // 300 commits on a line, a side branch off the 290th: hiding the line's tip reads the
        // branch and a few commits of the line, not all of its history.
        let mut history: History = (0..300_usize)
            .map(|index| {
                let parents = index.checked_sub(1).into_iter().collect();
                (parents, 1_700_000_000 + 10 * i64::try_from(index).unwrap())
            })
            .collect();
        history.push((vec![290], 1_700_010_000));
        history.push((vec![300], 1_700_010_010));
        let (_dir, repo, oids) = build(&history);
        let mut graph = Graph::new(&repo).unwrap();
        let to = graph.lookup(oids[301]);
        let from = graph.lookup(oids[299]);
        graph.nodes[from].hidden = true;
        for node in [from, to] {
            graph.parse(node).unwrap();
            graph.nodes[node].seen = true;
        }
        graph.hide_ancestors(from);
        let shown = graph.limit(VecDeque::from([from, to])).unwrap();
        assert_eq!(shown.len(), 2);
        let parsed = graph.nodes.iter().filter(|node| node.parsed).count();
        assert!(parsed < 30, "parsed {parsed} commits");
        let walked = walk(&repo, Some(oids[299]), oids[301]).unwrap();
        assert_eq!(ids(&walked), vec![oids[300], oids[301]]);
        assert!(!walked.reaches_from);
    }
}
