//! Taking, holding and releasing the organization's lease (see [`crate::live::Lease`]).
//!
//! An apply takes the lease before it reads the organization and releases it at the end. A
//! lease held by another apply makes this one wait (up to `--lock-timeout`) or refuse. A lease
//! that has run out, or whose holder was a process on this machine that has ended, is taken
//! over with a note. While an apply runs, its lease is renewed well before it runs out.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::diagnostic::Diagnostic;
use crate::live::{Lease, OrgWriter};
use crate::rules::Rule;

/// How long a lease lasts unless renewed.
pub const LEASE_DURATION: chrono::Duration = chrono::Duration::minutes(60);
/// How often a held lease is renewed.
pub const RENEW_EVERY: Duration = Duration::from_secs(15 * 60);
/// How often a waiting apply looks at the lease again.
const POLL: Duration = Duration::from_secs(5);

/// Takes the lease, waiting up to `wait` for another holder to finish.
pub async fn acquire<W: OrgWriter>(writer: &W, wait: Duration) -> Result<Lease, Diagnostic> {
    let started = Instant::now();
    let mut races = 0;
    loop {
        let current = writer.lease().await?;
        let free = current
            .as_ref()
            .is_none_or(|held| held.expired() || held.holder_gone());
        if free {
            let lease = Lease::new(LEASE_DURATION);
            if writer.take_lease(&lease, current.as_ref()).await? {
                if let Some(old) = current {
                    let why = if old.expired() {
                        "it had run out"
                    } else {
                        "its process on this machine has ended"
                    };
                    eprintln!("note: took over the lease {} ({why})", old.describe());
                }
                return Ok(lease);
            }
            // Another apply took it in the meantime: look again, a few times at once.
            races += 1;
            if races < 3 {
                continue;
            }
        }
        let waited = started.elapsed();
        if waited >= wait {
            let held = match writer.lease().await? {
                Some(held) => held.describe(),
                None => "just taken and released by another apply".to_owned(),
            };
            return Err(Diagnostic::new(
                Rule::LeaseHeld,
                format!("another apply is changing this organization: the lease is {held}"),
            )
            .help("wait for it to finish, or pass --lock-timeout to wait; if that apply died on another machine, run `orgctl force-unlock LEASE_ID` with the same backend options"));
        }
        tokio::time::sleep(POLL.min(wait - waited)).await;
    }
}

/// Runs `work` while holding `lease`, renewing it every [`RENEW_EVERY`]; returns the work's
/// output and the lease as last renewed.
pub async fn hold<W: OrgWriter, T>(
    writer: &W,
    lease: Lease,
    work: impl Future<Output = T>,
) -> (T, Lease) {
    let mut current = lease;
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            output = &mut work => return (output, current),
            () = tokio::time::sleep(RENEW_EVERY) => {
                let renewed = current.renewed(LEASE_DURATION);
                match writer.take_lease(&renewed, Some(&current)).await {
                    Ok(true) => current = renewed,
                    Ok(false) => eprintln!("warning: the lease was taken by someone else while this apply ran (force-unlock?)"),
                    Err(error) => eprintln!("warning: could not renew the lease: {}", error.message),
                }
            }
        }
    }
}

/// Removes the lease with `id`, whoever holds it: for a holder that died on another machine.
pub async fn force_unlock<W: OrgWriter>(writer: &W, id: &str) -> Result<Lease, Diagnostic> {
    match writer.lease().await? {
        None => Err(
            Diagnostic::new(Rule::LeaseHeld, "the organization has no lease to remove")
                .help("nothing holds it; apply as usual"),
        ),
        Some(held) if held.id != id => Err(Diagnostic::new(
            Rule::LeaseHeld,
            format!("the lease is {}, not `{id}`", held.describe()),
        )
        .help("pass the id of the lease to remove, as the refused apply printed it")),
        Some(held) => {
            writer.release_lease(&held).await?;
            Ok(held)
        }
    }
}
