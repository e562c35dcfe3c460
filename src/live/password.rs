//! One-time console passwords for the IAM users orgctl creates: drawn from the operating system's
//! random source, written only to a file the user names (mode 0600), never printed, logged or put
//! in a plan. AWS makes the user choose a new one at first sign-in.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

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

/// Opens the password file for appending: created with mode 0600, or an existing regular file
/// that only its owner can read. A link, a device or a pipe (`/dev/stdout` would print the
/// passwords into a job log) is refused.
fn open(path: &Path) -> Result<std::fs::File, String> {
    if let Ok(metadata) = std::fs::symlink_metadata(path)
        && !metadata.file_type().is_file()
    {
        return Err(
            "it is not a regular file (a link, a device or a pipe would let the passwords out)"
                .to_owned(),
        );
    }
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| error.to_string())?;
    let metadata = file.metadata().map_err(|error| error.to_string())?;
    if !metadata.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "it is readable by others (mode {:o}); `chmod 600` it, or name a new file",
            mode & 0o777
        ));
    }
    Ok(file)
}

/// Checks, before anything is created, that passwords can be written to `path`.
pub fn check(path: &Path) -> Result<(), Diagnostic> {
    open(path).map(drop).map_err(|reason| {
        Diagnostic::new(
            Rule::ApplyRefused,
            format!("cannot write passwords to `{}`: {reason}", path.display()),
        )
        .help("name a new file in a private directory with --password-file; nothing was changed")
    })
}

/// Generates a password for `user` in `account_id` and appends it to `path` (see [`check`]).
/// Returns it for the API call alone.
pub fn record(path: &Path, account_id: &str, user: &str) -> Result<String, Diagnostic> {
    let failed = |reason: String| {
        Diagnostic::new(
            Rule::ChangeFailed,
            format!(
                "cannot record the password of `{user}` in {account_id} in `{}`: {reason}",
                path.display()
            ),
        )
        .help("name a file in a private directory with --password-file and apply again: the user has no password yet, and the next apply gives it one")
    };
    let password = generate().map_err(failed)?;
    let mut file = open(path).map_err(failed)?;
    writeln!(file, "{account_id}\t{user}\t{password}")
        .and_then(|()| file.sync_all())
        .map_err(|error| failed(error.to_string()))?;
    Ok(password)
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

    #[test]
    fn passwords_go_to_a_private_file_only() {
        let directory = tempfile::tempdir().expect("a temp dir");
        let path = directory.path().join("passwords");
        let password = record(&path, "123456789012", "end-customer").expect("recorded");
        let text = std::fs::read_to_string(&path).expect("written");
        assert_eq!(text, format!("123456789012\tend-customer\t{password}\n"));
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        // A file others can read is refused, and nothing is added to it.
        let open = directory.path().join("open");
        std::fs::write(&open, "").expect("writable");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let refused = record(&open, "123456789012", "end-customer").expect_err("refused");
        assert!(
            refused.message.contains("readable by others"),
            "{}",
            refused.message
        );
        assert_eq!(std::fs::read_to_string(&open).expect("readable"), "");

        // Neither a link (to a file others could read) nor a stream that would print them.
        let link = directory.path().join("link");
        std::os::unix::fs::symlink(&path, &link).expect("a link");
        assert!(check(&link).is_err());
        assert!(check(Path::new("/dev/stdout")).is_err());
        assert!(check(&path).is_ok());
    }
}
