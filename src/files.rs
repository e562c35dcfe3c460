//! orgctl's own files on disk: every file orgctl writes goes through [`write()`], and every file it
//! reads through [`read`] or [`read_regular`], with a size limit.
//!
//! A write never follows a link it did not mean to and never writes into anything but a regular
//! file: the new contents go to a temporary file with an unpredictable name, created exclusively
//! beside the target (`O_CREAT | O_EXCL`, which never follows a link), flushed to disk, and then
//! renamed over the target (or hard-linked to it, where nothing may be replaced). Readers see
//! the old file or the new one, never a mix, and a crash leaves the old one. A path that is a
//! symbolic link to a regular file updates that file (the link stays); a dangling link, a
//! directory, a pipe, a device or a socket is refused, so `--out /dev/stdout` cannot send a
//! file into a job log, and nothing replaces `/dev/null` when orgctl runs as root.
//!
//! Reads are bounded by the size of the largest organization AWS allows ([`largest`]): anything
//! larger is not an orgctl file, and a device such as `/dev/zero` would otherwise be read until
//! memory runs out.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// The largest organization AWS allows, from which every size limit of orgctl's files is
/// derived (AWS Organizations quotas and service limits,
/// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html>).
pub mod largest {
    /// Accounts in an organization: the quota can be raised to 50,000 (editions of the page
    /// before 2026 said 10,000).
    pub const ACCOUNTS: u64 = 50_000;
    /// OUs in an organization.
    pub const OUS: u64 = 2_000;
    /// Policies of every type orgctl manages: 10,000 service control policies, 2,000 resource
    /// control policies and 1,000 of each other type (the page gives 1,000 for each other type
    /// it lists; the types it does not list yet are taken to be the same).
    pub const POLICIES: u64 =
        10_000 + 2_000 + (crate::config::policy_type::POLICY_TYPES.len() as u64 - 2) * 1_000;
    /// Tags on one account, OU, root or policy.
    pub const TAGS: u64 = 50;
    /// Characters of a tag key.
    pub const TAG_KEY: u64 = 128;
    /// Characters of a tag value.
    pub const TAG_VALUE: u64 = 256;
    /// Characters of the largest policy document (a service control policy, since 2026-05-15).
    pub const POLICY_CHARACTERS: u64 = 10_240;

    /// Bytes one account or OU takes in a configuration, snapshot or plan, at most: 4 KiB for
    /// its name, id, email, parent, lifecycle, attachments and the IAM orgctl keeps in it, and
    /// every tag at AWS's longest key and value (with 16 bytes of quoting and indentation).
    pub const RESOURCE_BYTES: u64 = 4 * 1024 + TAGS * (TAG_KEY + TAG_VALUE + 16);
    /// Bytes one policy takes, at most: 4 KiB for its name, type, description and targets, and
    /// its document at four bytes a character (UTF-8, or JSON's escapes).
    pub const POLICY_BYTES: u64 = 4 * 1024 + 4 * POLICY_CHARACTERS;
    /// Bytes the largest organization takes as a configuration or a snapshot.
    pub const ORGANIZATION_BYTES: u64 =
        (ACCOUNTS + OUS + 1) * RESOURCE_BYTES + POLICIES * POLICY_BYTES;
    /// The same organization, in words, for messages.
    pub const DESCRIPTION: &str = "the largest organization AWS allows: 50,000 accounts and 2,000 OUs with 50 tags each, 24,000 policies";
}

// The largest organization written out in full fits: 50,000 accounts with 50 tags each at AWS's
// longest key and value (a YAML line `    KEY: VALUE` apiece), and 24,000 policies at AWS's longest.
const _: () = assert!(
    largest::ACCOUNTS * largest::TAGS * (4 + largest::TAG_KEY + 2 + largest::TAG_VALUE + 1)
        + largest::POLICIES * largest::POLICY_CHARACTERS
        < largest::ORGANIZATION_BYTES
);

/// How large a file orgctl reads may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The file, in words: "a configuration", "a snapshot".
    pub what: &'static str,
    /// The most bytes it may have.
    pub bytes: u64,
    /// Why that much: what it leaves room for.
    pub room_for: &'static str,
}

/// A configuration: the largest organization's YAML.
pub const CONFIG: Limit = Limit {
    what: "a configuration",
    bytes: largest::ORGANIZATION_BYTES,
    room_for: largest::DESCRIPTION,
};

/// A snapshot: the largest organization's JSON.
pub const SNAPSHOT: Limit = Limit {
    what: "a snapshot",
    bytes: largest::ORGANIZATION_BYTES,
    room_for: largest::DESCRIPTION,
};

/// A saved plan: every resource of the largest organization, before and after.
pub const PLAN: Limit = Limit {
    what: "a saved plan",
    bytes: 2 * largest::ORGANIZATION_BYTES,
    room_for: "every resource of the largest organization AWS allows, before and after",
};

/// A policy file: AWS's largest document, pretty-printed, many times over.
pub const POLICY_FILE: Limit = Limit {
    what: "a policy file",
    bytes: 1024 * 1024,
    room_for: "AWS's largest policy document is 10,240 characters",
};

/// Why a file could not be read or written.
#[derive(Debug)]
pub enum Error {
    /// Something other than a regular file is at the path.
    NotRegular {
        /// What it is, with its article: "a directory", "a named pipe (FIFO)".
        kind: &'static str,
    },
    /// A symbolic link whose target does not exist.
    Dangling {
        /// Where the link points.
        target: PathBuf,
    },
    /// A file is at the path, and the write was not to replace it.
    Exists,
    /// The file is larger than its limit.
    TooLarge {
        /// Its size, when known before reading (a pipe has none).
        size: Option<u64>,
        /// The limit.
        limit: Limit,
    },
    /// The operating system refused.
    Io(std::io::Error),
}

impl Error {
    /// Whether a file already at the path stopped a write that must not replace it.
    pub fn is_exists(&self) -> bool {
        matches!(self, Error::Exists)
    }

    /// What to do instead, when the path names something orgctl never writes to.
    pub fn write_help(&self) -> Option<&'static str> {
        match self {
            Error::NotRegular { .. } | Error::Dangling { .. } => Some(
                "name a regular file, a new one or a link to one: orgctl replaces a file whole (a new file beside it, renamed into place) and never writes into a directory, a device or a pipe",
            ),
            _ => None,
        }
    }

    /// Whether the path names nothing.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Io(error) if error.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for Error {
    /// A clause that follows "cannot read `FILE`: ".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotRegular { kind } => write!(f, "it is {kind}, not a regular file"),
            Error::Dangling { target } => write!(
                f,
                "it is a link to `{}`, which does not exist",
                target.display()
            ),
            Error::Exists => f.write_str("it already exists"),
            Error::TooLarge { size, limit } => {
                match size {
                    Some(size) => write!(f, "it is {} bytes", grouped(*size))?,
                    None => f.write_str("it holds more bytes than that")?,
                }
                write!(
                    f,
                    "; {} may have at most {} bytes ({})",
                    limit.what,
                    grouped(limit.bytes),
                    limit.room_for
                )
            }
            Error::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Io(error) => error,
            Error::Exists => {
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, error.to_string())
            }
            other => std::io::Error::other(other.to_string()),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Io(error)
    }
}

/// A number with thousands separators: `1,048,576`.
pub fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// What kind of file `metadata` describes, with its article, for messages.
pub fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        "a regular file"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_fifo() {
        "a named pipe (FIFO)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "an unknown kind of file"
    }
}

/// How [`write()`] treats a file already at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (through a link, the link's target), keeping its permission bits.
    Replace,
    /// Keep it, and fail with [`Error::Exists`]: the new file is hard-linked into place, which
    /// fails whatever is at the path, even a dangling link.
    Keep,
}

/// Writes `bytes` to `path` atomically (see the module documentation). A new file gets
/// `mode` (less the umask); a replaced one keeps its permission bits.
pub fn write(path: &Path, bytes: &[u8], existing: Existing, mode: u32) -> Result<(), Error> {
    let (target, kept_mode) = match existing {
        Existing::Replace => resolve(path)?,
        Existing::Keep => (path.to_path_buf(), None),
    };
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or(Error::NotRegular {
            kind: "a directory",
        })?;
    let (temporary, mut file) = create_temporary(directory, &name, kept_mode.unwrap_or(mode))?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(kept) = kept_mode {
            // The umask narrowed the mode at creation; the file being replaced had exactly this.
            file.set_permissions(std::fs::Permissions::from_mode(kept))?;
        }
        file.sync_all()?;
        match existing {
            Existing::Replace => std::fs::rename(&temporary, &target)?,
            Existing::Keep => {
                std::fs::hard_link(&temporary, &target).map_err(|error| {
                    if error.kind() == std::io::ErrorKind::AlreadyExists {
                        Error::Exists
                    } else {
                        Error::Io(error)
                    }
                })?;
                std::fs::remove_file(&temporary)?;
            }
        }
        // The rename is durable once the directory is; some file systems cannot sync one, and
        // the file itself is already safe on those.
        if let Ok(directory) = File::open(directory) {
            let _ = directory.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Where a write to `path` that replaces lands, and the permission bits it keeps: `path` itself
/// when nothing or a regular file is there, the final target of a link to a regular file.
fn resolve(path: &Path) -> Result<(PathBuf, Option<u32>), Error> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok((path.to_path_buf(), None));
        }
        Err(error) => return Err(error.into()),
    };
    let (target, metadata) = if metadata.file_type().is_symlink() {
        match std::fs::metadata(path) {
            Ok(followed) => (std::fs::canonicalize(path)?, followed),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let target = std::fs::read_link(path)?;
                return Err(Error::Dangling { target });
            }
            Err(error) => return Err(error.into()),
        }
    } else {
        (path.to_path_buf(), metadata)
    };
    if !metadata.is_file() {
        return Err(Error::NotRegular {
            kind: kind(&metadata),
        });
    }
    Ok((target, Some(metadata.permissions().mode() & 0o7777)))
}

/// A new file `.NAME.RANDOM.tmp` in `directory`, created exclusively with `mode`.
fn create_temporary(directory: &Path, name: &str, mode: u32) -> Result<(PathBuf, File), Error> {
    let mut attempts = 0;
    loop {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|error| std::io::Error::other(format!("no random source: {error}")))?;
        let suffix: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        let temporary = directory.join(format!(".{name}.{suffix}.tmp"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            // Someone else's file, or a link someone placed: draw another name.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && attempts < 8 => {
                attempts += 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Reads a file the user named on the command line (a configuration, a snapshot, a saved
/// plan): a regular file, through links, or a pipe (`<(orgctl export)`); a directory, a device
/// or a socket is refused before it is opened. At most `limit` bytes.
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, Error> {
    let metadata = std::fs::metadata(path)?;
    if !(metadata.is_file() || metadata.file_type().is_fifo()) {
        return Err(Error::NotRegular {
            kind: kind(&metadata),
        });
    }
    let file = File::open(path)?;
    let opened = file.metadata()?;
    if !(opened.is_file() || opened.file_type().is_fifo()) {
        return Err(Error::NotRegular {
            kind: kind(&opened),
        });
    }
    read_bounded(file, &opened, limit)
}

/// Reads a file that a configuration names (a policy document): only a regular file, opened
/// without following a link and without waiting (a named pipe is refused, not waited on). At
/// most `limit` bytes.
pub fn read_regular(path: &Path, limit: Limit) -> Result<Vec<u8>, Error> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(descriptor) => File::from(descriptor),
        Err(rustix::io::Errno::LOOP) => {
            return Err(Error::NotRegular {
                kind: "a symbolic link",
            });
        }
        Err(errno) => return Err(std::io::Error::from(errno).into()),
    };
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(Error::NotRegular {
            kind: kind(&metadata),
        });
    }
    read_bounded(file, &metadata, limit)
}

/// Reads at most `limit` bytes from an opened file, refusing one that holds more.
fn read_bounded(file: File, metadata: &Metadata, limit: Limit) -> Result<Vec<u8>, Error> {
    if metadata.is_file() && metadata.len() > limit.bytes {
        return Err(Error::TooLarge {
            size: Some(metadata.len()),
            limit,
        });
    }
    let capacity = if metadata.is_file() {
        metadata.len()
    } else {
        0
    };
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    file.take(limit.bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit.bytes {
        return Err(Error::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// The path that leads from `folder` to `target`: relative, between the two real paths (links
/// resolved), so that it reaches the same file however the folder is named later (a saved plan
/// records its configuration and snapshot this way). `target` as given when either cannot be
/// resolved (a pipe such as `<(orgctl export)`, a folder not there yet).
pub fn path_from(folder: &Path, target: &Path) -> PathBuf {
    // `plan.json` has the empty path for its folder: the current one.
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let (Ok(folder), Ok(real)) = (std::fs::canonicalize(folder), std::fs::canonicalize(target))
    else {
        return target.to_path_buf();
    };
    let from: Vec<_> = folder.components().collect();
    let to: Vec<_> = real.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return real;
    }
    let mut path: PathBuf =
        std::iter::repeat_n(std::path::Component::ParentDir, from.len() - common)
            .chain(to[common..].iter().copied())
            .collect();
    if path.as_os_str().is_empty() {
        path.push(".");
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn the_largest_organization_is_described_with_its_figures() {
        assert!(
            largest::DESCRIPTION.ends_with(&format!("{} policies", grouped(largest::POLICIES))),
            "{}",
            largest::DESCRIPTION
        );
    }

    #[test]
    fn a_path_from_a_folder_climbs_out_of_it_and_down_to_the_target() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let root = directory.path();
        std::fs::create_dir_all(root.join("plans/today")).expect("a folder");
        std::fs::create_dir_all(root.join("acme")).expect("a folder");
        std::fs::write(root.join("acme/orgctl.yaml"), "").expect("a file");
        assert_eq!(
            path_from(&root.join("plans/today"), &root.join("acme/orgctl.yaml")),
            Path::new("../../acme/orgctl.yaml")
        );
        assert_eq!(
            path_from(&root.join("acme"), &root.join("acme/orgctl.yaml")),
            Path::new("orgctl.yaml")
        );
    }

    #[test]
    fn a_path_from_a_folder_goes_through_links_as_the_system_does() {
        // `link/..` is the parent of where the link points, not the folder holding the link.
        let directory = tempfile::tempdir().expect("a temp dir");
        let root = directory.path();
        std::fs::create_dir_all(root.join("deep/plans")).expect("a folder");
        std::fs::write(root.join("orgctl.yaml"), "").expect("a file");
        symlink(root.join("deep/plans"), root.join("plans")).expect("a link");
        let path = path_from(&root.join("plans"), &root.join("orgctl.yaml"));
        assert_eq!(path, Path::new("../../orgctl.yaml"));
        assert!(root.join("plans").join(&path).is_file());
    }

    #[test]
    fn a_target_that_cannot_be_resolved_is_kept_as_given() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let target = Path::new("/dev/fd/no-such-pipe");
        assert_eq!(path_from(directory.path(), target), target);
    }

    const SMALL: Limit = Limit {
        what: "a test file",
        bytes: 16,
        room_for: "sixteen bytes",
    };

    fn fifo(path: &Path) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("a named pipe");
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn a_new_file_is_written_whole_with_the_mode_asked() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("plan.json");
        write(&path, b"new", Existing::Replace, 0o600).expect("written");
        assert_eq!(std::fs::read(&path).expect("readable"), b"new");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("live.json");
        std::fs::write(&path, "old").expect("writable");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write(&path, b"new", Existing::Replace, 0o666).expect("written");
        assert_eq!(std::fs::read(&path).expect("readable"), b"new");
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn a_link_to_a_regular_file_updates_the_target_and_stays_a_link() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let target = directory.path().join("real.json");
        std::fs::write(&target, "old").expect("writable");
        let link = directory.path().join("link.json");
        symlink("real.json", &link).expect("a link");
        write(&link, b"new", Existing::Replace, 0o666).expect("written");
        assert_eq!(std::fs::read(&target).expect("readable"), b"new");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("exists")
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_dangling_link_is_refused_and_nothing_is_created() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let link = directory.path().join("link.json");
        let target = directory.path().join("elsewhere.json");
        symlink(&target, &link).expect("a link");
        let error = write(&link, b"new", Existing::Replace, 0o666).expect_err("refused");
        assert!(matches!(error, Error::Dangling { .. }), "{error}");
        assert!(!target.exists());
    }

    #[test]
    fn a_named_pipe_is_refused() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let pipe = directory.path().join("pipe");
        fifo(&pipe);
        let error = write(&pipe, b"new", Existing::Replace, 0o666).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "it is a named pipe (FIFO), not a regular file"
        );
    }

    #[test]
    fn a_device_is_refused_and_left_as_it_is() {
        // As root the old temporary-and-rename would have replaced /dev/null with a file.
        let error =
            write(Path::new("/dev/null"), b"new", Existing::Replace, 0o666).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "it is a character device, not a regular file"
        );
        let metadata = std::fs::metadata("/dev/null").expect("exists");
        assert!(metadata.file_type().is_char_device());
    }

    #[test]
    fn a_link_to_a_device_is_refused() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let link = directory.path().join("out");
        symlink("/dev/null", &link).expect("a link");
        let error = write(&link, b"new", Existing::Replace, 0o666).expect_err("refused");
        assert!(matches!(error, Error::NotRegular { .. }), "{error}");
    }

    #[test]
    fn a_directory_is_refused() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let error = write(directory.path(), b"new", Existing::Replace, 0o666).expect_err("refused");
        assert_eq!(error.to_string(), "it is a directory, not a regular file");
    }

    #[test]
    fn temporary_names_are_unpredictable() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let (first, _) = create_temporary(directory.path(), "plan.json", 0o600).expect("created");
        let (second, _) = create_temporary(directory.path(), "plan.json", 0o600).expect("created");
        // Two names drawn by one process differ: nothing in them can be guessed from the process.
        assert_ne!(first, second);
        let name = first
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            name.len(),
            ".plan.json.".len() + 16 + ".tmp".len(),
            "{name}"
        );
    }

    #[test]
    fn a_write_leaves_only_its_file_behind() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("out.json");
        write(&path, b"new", Existing::Replace, 0o666).expect("written");
        let names: Vec<_> = std::fs::read_dir(directory.path())
            .expect("listable")
            .map(|entry| entry.expect("an entry").file_name())
            .collect();
        assert_eq!(names, ["out.json"]);
    }

    #[test]
    fn keeping_an_existing_file_refuses_even_a_dangling_link() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let link = directory.path().join("orgctl.yaml");
        symlink(directory.path().join("nowhere"), &link).expect("a link");
        let error = write(&link, b"new", Existing::Keep, 0o666).expect_err("refused");
        assert!(error.is_exists(), "{error}");
        assert!(!directory.path().join("nowhere").exists());
        let names = std::fs::read_dir(directory.path())
            .expect("listable")
            .count();
        assert_eq!(names, 1, "the temporary file is removed");
    }

    #[test]
    fn keeping_writes_where_nothing_is() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("orgctl.yaml");
        write(&path, b"new", Existing::Keep, 0o644).expect("written");
        assert_eq!(std::fs::read(&path).expect("readable"), b"new");
    }

    #[test]
    fn reads_stop_at_the_limit_and_say_it() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("big");
        std::fs::write(&path, [b'x'; 17]).expect("writable");
        let error = read(&path, SMALL).expect_err("too large");
        assert_eq!(
            error.to_string(),
            "it is 17 bytes; a test file may have at most 16 bytes (sixteen bytes)"
        );
        std::fs::write(&path, [b'x'; 16]).expect("writable");
        assert_eq!(read(&path, SMALL).expect("read").len(), 16);
    }

    #[test]
    fn a_device_is_not_read() {
        let error = read(Path::new("/dev/zero"), SMALL).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "it is a character device, not a regular file"
        );
    }

    #[test]
    fn a_pipe_the_user_names_is_read_up_to_the_limit() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let pipe = directory.path().join("pipe");
        fifo(&pipe);
        let writer = {
            let pipe = pipe.clone();
            std::thread::spawn(move || {
                let mut file = OpenOptions::new().write(true).open(pipe).expect("opened");
                // The reader stops after the limit; a closed pipe is not this test's concern.
                let _ = file.write_all(&[b'x'; 64]);
            })
        };
        let error = read(&pipe, SMALL).expect_err("too large");
        assert!(
            matches!(error, Error::TooLarge { size: None, .. }),
            "{error}"
        );
        writer.join().expect("the writer ends");
    }

    #[test]
    fn a_named_pipe_is_refused_without_waiting_for_a_writer() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let pipe = directory.path().join("policy.json");
        fifo(&pipe);
        let error = read_regular(&pipe, SMALL).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "it is a named pipe (FIFO), not a regular file"
        );
    }

    #[test]
    fn a_regular_read_does_not_follow_a_link() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let target = directory.path().join("secret");
        std::fs::write(&target, "{}").expect("writable");
        let link = directory.path().join("policy.json");
        symlink(&target, &link).expect("a link");
        let error = read_regular(&link, SMALL).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "it is a symbolic link, not a regular file"
        );
        assert_eq!(read_regular(&target, SMALL).expect("read"), b"{}");
    }

    #[test]
    fn the_limits_are_stated_in_full() {
        assert_eq!(grouped(CONFIG.bytes), "2,334,360,096");
        assert_eq!(grouped(PLAN.bytes), "4,668,720,192");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_048_576), "1,048,576");
    }
}
