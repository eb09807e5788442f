//! Writing files so that a failure never leaves half of one: through a temporary file in the
//! same directory, then renamed into place.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Whether a write may replace a file that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replace {
    /// Replace it.
    Yes,
    /// Never: fail with [`Existed`] when the file exists, even one created since a check.
    No,
}

/// The file existed, and [`Replace::No`] left it as it is.
#[derive(Debug, thiserror::Error)]
#[error("{} exists", .0.display())]
pub(crate) struct Existed(pub(crate) std::path::PathBuf);

/// Write `text` to `path` whole or not at all.
///
/// # Errors
///
/// [`Existed`] with [`Replace::No`] when the file exists; the directory or file cannot be
/// written.
pub(crate) fn write_atomically(path: &Path, text: &str, replace: Replace) -> anyhow::Result<()> {
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(directory)
        .with_context(|| format!("create a file in {}", directory.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("write {}", path.display()))?;
    match replace {
        Replace::Yes => file
            .persist(path)
            .map(drop)
            .map_err(|error| error.error)
            .with_context(|| format!("write {}", path.display())),
        Replace::No => file.persist_noclobber(path).map(drop).map_err(|error| {
            if error.error.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::Error::new(Existed(path.to_path_buf()))
            } else {
                anyhow::Error::new(error.error).context(format!("write {}", path.display()))
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_only_when_asked() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("deploy.toml");
        write_atomically(&path, "first", Replace::No).unwrap();
        let error = write_atomically(&path, "second", Replace::No).unwrap_err();
        assert!(error.is::<Existed>(), "{error:#}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        write_atomically(&path, "third", Replace::Yes).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "third");
        // Nothing but the file itself is left in the directory.
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_fails_and_names_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("missing").join("notes.md");
        let error = write_atomically(&path, "notes", Replace::Yes).unwrap_err();
        assert!(format!("{error:#}").contains("missing"), "{error:#}");
    }
}
