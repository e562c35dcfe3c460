//! One-time console passwords for the IAM users orgctl creates: drawn from the operating system's
//! random source, written only to a file the user names (mode 0600), never printed, logged or put
//! in a plan. AWS makes the user choose a new one at first sign-in.

use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::diagnostic::Diagnostic;
use crate::rules::Rule;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!@#$%^&*()_+-=[]{}|";
const LENGTH: usize = 24;

/// Uniform random numbers below a bound, from the operating system's random source.
struct Random {
    bytes: [u8; 256],
    used: usize,
}

impl Random {
    fn new() -> Result<Self, String> {
        let mut random = Random {
            bytes: [0; 256],
            used: 256,
        };
        random.refill()?;
        Ok(random)
    }

    fn refill(&mut self) -> Result<(), String> {
        getrandom::fill(&mut self.bytes).map_err(|error| format!("no random source: {error}"))?;
        self.used = 0;
        Ok(())
    }

    /// A number in `0..bound` (`bound` at most 256), without modulo bias: bytes at or above the
    /// largest multiple of `bound` are drawn again.
    fn below(&mut self, bound: usize) -> Result<usize, String> {
        let limit = 256 - 256 % bound;
        loop {
            if self.used == self.bytes.len() {
                self.refill()?;
            }
            let byte = usize::from(self.bytes[self.used]);
            self.used += 1;
            if byte < limit {
                return Ok(byte % bound);
            }
        }
    }
}

/// A password of 24 characters with every character class IAM password policies ask for.
pub fn generate() -> Result<String, String> {
    let mut random = Random::new()?;
    let classes = [LOWER, UPPER, DIGITS, SYMBOLS];
    let all: Vec<u8> = classes.concat();
    let mut password = Vec::with_capacity(LENGTH);
    for index in 0..LENGTH {
        // The first four come one from each class; the rest from all of them.
        let set: &[u8] = classes.get(index).copied().unwrap_or(&all);
        password.push(set[random.below(set.len())?]);
    }
    // Fisher–Yates, so the classes are not in fixed places.
    for index in (1..LENGTH).rev() {
        let other = random.below(index + 1)?;
        password.swap(index, other);
    }
    String::from_utf8(password).map_err(|error| error.to_string())
}

/// The file apply writes one-time passwords to (`--password-file`), opened once, before
/// anything is created, and appended to through that one handle for the whole apply.
///
/// It is opened without following a link (`O_NOFOLLOW`), without waiting on a pipe
/// (`O_NONBLOCK`), and created with mode 0600 if it does not exist. What was opened is then
/// checked on the handle itself (`fstat`), so nothing can be swapped in between the check and
/// the writes: it must be a regular file with no other name (hard link), owned by the user
/// running orgctl, that no one else can read, write or run. It is not written through
/// [`crate::files::write`]: apply adds a line per user as the users are made, and a file
/// replaced whole at the end would lose every password of an apply that stopped midway.
///
/// A file this apply created and wrote nothing to (an apply refused, cancelled or interrupted
/// before it made a user) is removed again by [`PasswordFile::discard_if_unused`]; a file that
/// existed before is always left.
#[derive(Clone)]
pub struct PasswordFile {
    path: PathBuf,
    file: Arc<Mutex<File>>,
    /// Whether opening it created it.
    created: bool,
    /// Passwords written to it so far.
    recorded: Arc<AtomicUsize>,
}

impl std::fmt::Debug for PasswordFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PartialEq for PasswordFile {
    /// The same opened file.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.file, &other.file)
    }
}

impl Eq for PasswordFile {}

/// Why a password file is refused: what is wrong, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    wrong: String,
    help: String,
}

/// The help for every refusal but a mode others can use.
const NEW_FILE: &str = "name a new file in a directory only you can write, e.g. `--password-file ~/orgctl-passwords`; nothing was changed";

impl PasswordFile {
    /// Opens (or creates) `path` for the passwords of this apply; refused when it is anything
    /// but a private regular file of the user running orgctl (see [`PasswordFile`]).
    pub fn open(path: &Path) -> Result<Self, Diagnostic> {
        let euid = rustix::process::geteuid().as_raw();
        let (file, created) = open_private(path, euid).map_err(|refusal| {
            Diagnostic::new(
                Rule::ApplyRefused,
                format!(
                    "cannot write passwords to `{}`: {}",
                    path.display(),
                    refusal.wrong
                ),
            )
            .help(refusal.help)
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Arc::new(Mutex::new(file)),
            created,
            recorded: Arc::default(),
        })
    }

    /// How many passwords this apply wrote to it.
    pub fn recorded(&self) -> usize {
        self.recorded.load(Ordering::SeqCst)
    }

    /// Removes the file if this apply created it and wrote nothing to it, and its name still
    /// leads to it; returns whether it did. A file that existed before, or holds a password, is
    /// kept.
    pub fn discard_if_unused(&self) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        if !self.created || self.recorded() > 0 {
            return false;
        }
        let file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let (Ok(opened), Ok(named)) = (file.metadata(), std::fs::symlink_metadata(&self.path))
        else {
            return false;
        };
        let same = opened.dev() == named.dev() && opened.ino() == named.ino();
        same && opened.len() == 0 && std::fs::remove_file(&self.path).is_ok()
    }

    /// The path it was opened as.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Generates a password for `user` in `account_id` and appends it to the file, flushed to
    /// disk. Returns it for the API call alone.
    pub fn record(&self, account_id: &str, user: &str) -> Result<String, Diagnostic> {
        let failed = |reason: String| {
            Diagnostic::new(
                Rule::ChangeFailed,
                format!(
                    "cannot record the password of `{user}` in {account_id} in `{}`: {reason}",
                    self.path.display()
                ),
            )
            .help("name a file in a private directory with --password-file and apply again: the user has no password yet, and the next apply gives it one")
        };
        let password = generate().map_err(failed)?;
        // A panic while holding the lock leaves a file with whole lines; keep appending.
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        // Counted before the write: a line cut short still makes the file worth keeping.
        self.recorded.fetch_add(1, Ordering::SeqCst);
        writeln!(file, "{account_id}\t{user}\t{password}")
            .and_then(|()| file.sync_all())
            .map_err(|error| failed(error.to_string()))?;
        Ok(password)
    }
}

/// Opens `path` for appending, created with mode 0600, and checks the opened file for `euid`;
/// says whether it created it.
fn open_private(path: &Path, euid: u32) -> Result<(File, bool), Refusal> {
    use rustix::fs::{Mode, OFlags};
    let flags =
        OFlags::WRONLY | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let mode = Mode::from_raw_mode(0o600);
    // Created exclusively (never through a link) when it is missing, so that orgctl knows the
    // file is its own; opened as it is otherwise. Tried again if it vanishes in between.
    let mut opened = Err(rustix::io::Errno::NOENT);
    let mut created = false;
    for _ in 0..3 {
        opened = rustix::fs::open(path, flags | OFlags::CREATE | OFlags::EXCL, mode);
        created = opened.is_ok();
        if !matches!(opened, Err(rustix::io::Errno::EXIST)) {
            break;
        }
        opened = rustix::fs::open(path, flags, mode);
        if !matches!(opened, Err(rustix::io::Errno::NOENT)) {
            break;
        }
    }
    let file = match opened {
        Ok(descriptor) => File::from(descriptor),
        Err(rustix::io::Errno::LOOP) => {
            return Err(Refusal {
                wrong: "it is a symbolic link; orgctl writes passwords only to a file it opens directly, never through a link".to_owned(),
                help: NEW_FILE.to_owned(),
            });
        }
        // A pipe with no reader: opening it for writing without waiting fails so.
        Err(rustix::io::Errno::NXIO) => {
            return Err(not_regular("a named pipe (FIFO)"));
        }
        Err(rustix::io::Errno::ACCESS) => {
            return Err(Refusal {
                wrong: "you may not write to it (permission denied); a file someone else created is not yours to use".to_owned(),
                help: NEW_FILE.to_owned(),
            });
        }
        Err(errno) => {
            return Err(Refusal {
                wrong: std::io::Error::from(errno).to_string(),
                help: NEW_FILE.to_owned(),
            });
        }
    };
    let metadata = file.metadata().map_err(|error| Refusal {
        wrong: error.to_string(),
        help: NEW_FILE.to_owned(),
    })?;
    match refusal(&metadata, euid, path) {
        Some(refusal) => Err(refusal),
        None => Ok((file, created)),
    }
}

fn not_regular(kind: &str) -> Refusal {
    Refusal {
        wrong: format!(
            "it is {kind}, not a regular file: the passwords would go wherever it leads (`/dev/stdout` would print them into a job log)"
        ),
        help: NEW_FILE.to_owned(),
    }
}

/// What is wrong with an opened password file for the user `euid`, if anything.
fn refusal(metadata: &std::fs::Metadata, euid: u32, path: &Path) -> Option<Refusal> {
    use std::os::unix::fs::MetadataExt as _;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        return Some(not_regular(crate::files::kind(metadata)));
    }
    if metadata.uid() != euid {
        return Some(Refusal {
            wrong: format!(
                "it belongs to user {}, not to you (user {euid}): its owner could read every password",
                metadata.uid()
            ),
            help: NEW_FILE.to_owned(),
        });
    }
    if metadata.nlink() > 1 {
        return Some(Refusal {
            wrong: format!(
                "it has {} names (hard links): the passwords could be read through another",
                metadata.nlink()
            ),
            help: NEW_FILE.to_owned(),
        });
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        let who = |bits: u32, name: &str| {
            let verbs: Vec<&str> = [(0o4, "read"), (0o2, "write"), (0o1, "run")]
                .into_iter()
                .filter(|(bit, _)| bits & bit != 0)
                .map(|(_, verb)| verb)
                .collect();
            (!verbs.is_empty())
                .then(|| format!("{name} can {} it", crate::suggest::and_list(&verbs)))
        };
        let whom: Vec<String> = [
            who(mode >> 3 & 0o7, "its group"),
            who(mode & 0o7, "other users"),
        ]
        .into_iter()
        .flatten()
        .collect();
        return Some(Refusal {
            wrong: format!(
                "{} (mode {mode:03o}); only you may have access to it",
                whom.join(", and ")
            ),
            help: format!(
                "run `chmod 600 '{}'` and apply again, or name a new file; nothing was changed",
                path.display()
            ),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_every_class_and_differ() {
        let a = generate().expect("random");
        let b = generate().expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), LENGTH);
        for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
            assert!(a.bytes().any(|c| class.contains(&c)), "{a}");
        }
    }

    fn private_file(directory: &Path, mode: u32) -> PathBuf {
        let path = directory.join("passwords");
        std::fs::write(&path, "").expect("writable");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    fn refused(path: &Path) -> Diagnostic {
        PasswordFile::open(path).expect_err("refused")
    }

    #[test]
    fn a_new_password_file_is_private_and_holds_a_line_per_user() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("passwords");
        let file = PasswordFile::open(&path).expect("opened");
        let first = file
            .record("123456789012", "end-customer")
            .expect("recorded");
        let second = file
            .record("210987654321", "end-customer")
            .expect("recorded");
        let text = std::fs::read_to_string(&path).expect("written");
        assert_eq!(
            text,
            format!("123456789012\tend-customer\t{first}\n210987654321\tend-customer\t{second}\n")
        );
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_file_it_created_and_left_empty_is_removed() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("passwords");
        let file = PasswordFile::open(&path).expect("opened");
        assert!(file.discard_if_unused());
        assert!(!path.exists());
    }

    #[test]
    fn an_empty_file_that_existed_before_is_kept() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = private_file(directory.path(), 0o600);
        let file = PasswordFile::open(&path).expect("opened");
        assert!(!file.discard_if_unused());
        assert!(path.exists());
    }

    #[test]
    fn a_file_it_created_and_wrote_a_password_to_is_kept() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("passwords");
        let file = PasswordFile::open(&path).expect("opened");
        file.record("123456789012", "end-customer")
            .expect("recorded");
        assert!(!file.discard_if_unused());
        assert_eq!(file.recorded(), 1);
        assert!(path.exists());
    }

    #[test]
    fn a_file_put_in_the_place_of_the_one_it_created_is_kept() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("passwords");
        let file = PasswordFile::open(&path).expect("opened");
        std::fs::rename(&path, directory.path().join("moved")).expect("renamed");
        std::fs::write(&path, "").expect("someone else's file");
        assert!(!file.discard_if_unused());
        assert!(path.exists());
    }

    #[test]
    fn a_group_writable_file_is_refused_saying_who_can_do_what_and_what_to_run() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = private_file(directory.path(), 0o620);
        let refusal = refused(&path);
        assert_eq!(
            refusal.message,
            format!(
                "cannot write passwords to `{}`: its group can write it (mode 620); only you may have access to it",
                path.display()
            )
        );
        assert_eq!(
            refusal.help.as_deref(),
            Some(
                format!(
                    "run `chmod 600 '{}'` and apply again, or name a new file; nothing was changed",
                    path.display()
                )
                .as_str()
            )
        );
    }

    #[test]
    fn a_file_others_can_read_is_refused_and_left_as_it_is() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = private_file(directory.path(), 0o664);
        let refusal = refused(&path);
        assert!(
            refusal.message.ends_with(
                "its group can read and write it, and other users can read it (mode 664); only you may have access to it"
            ),
            "{}",
            refusal.message
        );
        assert_eq!(std::fs::read_to_string(&path).expect("readable"), "");
    }

    #[test]
    fn a_private_file_of_another_user_is_refused() {
        // A file someone else created with mode 0600 in a shared directory: whoever opens it
        // there (root can) must not use it. Checked as a user other than its owner.
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = private_file(directory.path(), 0o600);
        let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&path).expect("exists"));
        let Err(refusal) = open_private(&path, owner + 1) else {
            panic!("refused");
        };
        assert_eq!(
            refusal.wrong,
            format!(
                "it belongs to user {owner}, not to you (user {}): its owner could read every password",
                owner + 1
            )
        );
    }

    #[test]
    fn a_link_is_refused_even_to_a_private_file() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let target = private_file(directory.path(), 0o600);
        let link = directory.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("a link");
        assert!(
            refused(&link).message.ends_with("it is a symbolic link; orgctl writes passwords only to a file it opens directly, never through a link"),
        );
    }

    #[test]
    fn a_dangling_link_is_refused_and_creates_nothing() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let target = directory.path().join("elsewhere");
        let link = directory.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("a link");
        refused(&link);
        assert!(!target.exists());
    }

    #[test]
    fn a_second_name_is_refused() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = private_file(directory.path(), 0o600);
        std::fs::hard_link(&path, directory.path().join("copy")).expect("a hard link");
        assert!(
            refused(&path).message.ends_with(
                "it has 2 names (hard links): the passwords could be read through another"
            ),
        );
    }

    #[test]
    fn a_named_pipe_is_refused_without_waiting_for_a_reader() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let pipe = directory.path().join("passwords");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &pipe,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("a named pipe");
        assert!(
            refused(&pipe)
                .message
                .contains("it is a named pipe (FIFO), not a regular file")
        );
    }

    #[test]
    fn standard_output_is_refused() {
        // `/dev/stdout` is a link to the descriptor: a job log, a terminal or a pipe.
        let message = refused(Path::new("/dev/stdout")).message;
        assert!(message.contains("it is a symbolic link"), "{message}");
    }

    #[test]
    fn passwords_go_to_the_file_opened_whatever_replaces_its_name() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("passwords");
        let file = PasswordFile::open(&path).expect("opened");
        // Someone moves it away and puts a link to a file they can read in its place.
        let moved = directory.path().join("moved");
        std::fs::rename(&path, &moved).expect("renamed");
        let theirs = directory.path().join("theirs");
        std::fs::write(&theirs, "").expect("writable");
        std::os::unix::fs::symlink(&theirs, &path).expect("a link");
        let password = file
            .record("123456789012", "end-customer")
            .expect("recorded");
        assert_eq!(std::fs::read_to_string(&theirs).expect("readable"), "");
        assert!(
            std::fs::read_to_string(&moved)
                .expect("readable")
                .contains(&password)
        );
    }
}
