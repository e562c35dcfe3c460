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

/// A password of 24 characters with every character class IAM password policies ask for.
pub fn generate() -> Result<String, String> {
    let mut bytes = [0u8; LENGTH * 2];
    getrandom::fill(&mut bytes).map_err(|error| format!("no random source: {error}"))?;
    let classes = [LOWER, UPPER, DIGITS, SYMBOLS];
    let all: Vec<u8> = classes.concat();
    let mut password: Vec<u8> = bytes[..LENGTH]
        .iter()
        .enumerate()
        .map(|(index, byte)| {
            // The first four come one from each class; the rest from all of them.
            let set: &[u8] = classes.get(index).copied().unwrap_or(&all);
            set[usize::from(*byte) % set.len()]
        })
        .collect();
    // Shuffle, so the classes are not in fixed places (Fisher–Yates on the other random bytes).
    for (index, byte) in bytes[LENGTH..].iter().enumerate().take(LENGTH - 1).rev() {
        let other = usize::from(*byte) % (index + 2);
        password.swap(index + 1, other);
    }
    String::from_utf8(password).map_err(|error| error.to_string())
}

/// Generates a password for `user` in `account_id` and appends it to `path` (created with mode
/// 0600; an existing file must not be readable by others). Returns it for the API call alone.
pub fn record(path: &Path, account_id: &str, user: &str) -> Result<String, Diagnostic> {
    let failed = |reason: String| {
        Diagnostic::new(
            Rule::ChangeFailed,
            format!(
                "cannot record the password of `{user}` in {account_id} in `{}`: {reason}",
                path.display()
            ),
        )
        .help("name a file in a private directory with --password-file; nothing was created")
    };
    let password = generate().map_err(failed)?;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| failed(error.to_string()))?;
    let mode = file
        .metadata()
        .map_err(|error| failed(error.to_string()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(failed(format!(
            "it is readable by others (mode {:o}); `chmod 600` it, or name a new file",
            mode & 0o777
        )));
    }
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
    }
}
