//! Taking, holding and releasing the organization's lease (see [`crate::live::lease`]).
//!
//! An apply takes the lease before it reads the organization and releases it at the end. A
//! lease held by another apply makes this one wait (up to `--lock-timeout`) or refuse, saying who
//! holds it and what to run. A lease whose holder ended without releasing it is taken over with a
//! note: at once for a snapshot (the operating system released its lock), once it has run out on
//! AWS. While an apply runs, its lease is renewed well before it runs out.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::diagnostic::Diagnostic;
use crate::live::{Holder, Lease, LeaseAttempt, OrgWriter, Record, Unlock};
use crate::rules::Rule;

/// How long a lease lasts unless renewed.
pub const LEASE_DURATION: chrono::Duration = chrono::Duration::minutes(60);
/// How often a held lease is renewed.
pub const RENEW_EVERY: Duration = Duration::from_secs(15 * 60);
/// How soon a renewal that failed is tried again.
const RENEW_RETRY: Duration = Duration::from_secs(60);
/// The first pause of a waiting apply before it looks at the lease again; the pauses double up
/// to [`POLL`].
const FIRST_POLL: Duration = Duration::from_millis(250);
/// The longest pause of a waiting apply between two looks at the lease.
const POLL: Duration = Duration::from_secs(5);

/// Takes the lease, waiting up to `wait` for another holder to finish. A signal ends the wait
/// (an [`Rule::ApplyInterrupted`] error), never an attempt under way: one that took the lease
/// returns it, for the caller to release.
pub async fn acquire<W: OrgWriter>(
    writer: &W,
    wait: Duration,
    stop: &super::Stop,
) -> Result<Lease, Diagnostic> {
    let started = Instant::now();
    let mut lease = Lease::new(LEASE_DURATION);
    let mut pause = FIRST_POLL;
    let mut announced = false;
    loop {
        match writer.take_lease(&lease).await? {
            LeaseAttempt::Taken { replaced } => {
                if let Some(old) = replaced {
                    eprintln!("note: {}", took_over(&old));
                }
                return Ok(lease);
            }
            LeaseAttempt::Held(holder) => {
                let waited = started.elapsed();
                if waited >= wait {
                    return Err(held(holder.as_ref()));
                }
                if !announced {
                    eprintln!(
                        "waiting up to {} s for the lease {}",
                        wait.as_secs(),
                        held_by(holder.as_ref())
                    );
                    announced = true;
                }
                tokio::select! {
                    () = tokio::time::sleep(jittered(pause).min(wait - waited)) => {}
                    signal = stop.requested() => {
                        return Err(Diagnostic::new(
                            Rule::ApplyInterrupted,
                            format!("stopped by {} while waiting for the lease {}", signal.name(), held_by(holder.as_ref())),
                        )
                        .help("nothing was changed; apply again when that apply has finished"));
                    }
                }
                pause = (pause * 2).min(POLL);
                // The lease runs out counted from when it is taken, not from the first try.
                lease = lease.renewed(LEASE_DURATION);
            }
        }
    }
}

/// Runs `work` while holding `lease`, renewing it every [`RENEW_EVERY`]; returns the work's
/// output and the lease as last renewed. A lease found removed is not renewed again: the writer
/// then refuses further writes.
pub async fn hold<W: OrgWriter, T>(
    writer: &W,
    lease: Lease,
    work: impl Future<Output = T>,
) -> (T, Lease) {
    let mut current = lease;
    let mut next = RENEW_EVERY;
    let mut lost = false;
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            output = &mut work => return (output, current),
            () = tokio::time::sleep(next), if !lost => {
                let renewed = current.renewed(LEASE_DURATION);
                match writer.renew_lease(&renewed).await {
                    Ok(true) => {
                        current = renewed;
                        next = RENEW_EVERY;
                    }
                    Ok(false) => {
                        eprintln!("warning: this apply's lease {} was removed while it ran (by `orgctl force-unlock`, or taken over after it ran out); it starts no more changes", current.id);
                        lost = true;
                    }
                    Err(error) => {
                        eprintln!("warning: could not renew the lease {}: {}; trying again in a minute", current.id, Diagnostic::from(error).message);
                        next = RENEW_RETRY;
                    }
                }
            }
        }
    }
}

/// Removes the lease that `id` names, whoever holds it: for an apply that died without
/// releasing it. Returns what was removed.
pub async fn force_unlock<W: OrgWriter>(writer: &W, id: &str) -> Result<Holder, Diagnostic> {
    match writer.force_unlock(id).await? {
        Unlock::Removed(holder) => Ok(holder),
        Unlock::Nothing => Err(Diagnostic::new(
            Rule::LeaseHeld,
            "the organization has no lease to remove",
        )
        .help("nothing holds it; apply as usual")),
        Unlock::Other(holder) => {
            let help = match holder.unlock_id() {
                Some(other) => format!(
                    "pass the id the refused apply printed; to remove this one, run `orgctl force-unlock {other}`, but only once no apply is running"
                ),
                None => "pass the id the refused apply printed".to_owned(),
            };
            let found = if holder.lease.is_some() {
                format!("it is held by {}", holder.describe())
            } else {
                holder.describe()
            };
            Err(Diagnostic::new(
                Rule::LeaseHeld,
                format!("`{id}` does not name the lease: {found}"),
            )
            .help(help))
        }
        Unlock::Running(holder) => Err(Diagnostic::new(
            Rule::LeaseHeld,
            format!("{}; it was left in place", running_holder(&holder)),
        )
        .help("the lock goes with its process: wait for that apply to finish, or stop it")),
    }
}

/// `held by alice@ci-7:4242 (lease …)`, or what holds it instead, for the line of a waiting apply.
fn held_by(holder: Option<&Holder>) -> String {
    match holder {
        Some(holder) if holder.lease.is_some() => format!("held by {}", holder.describe()),
        Some(holder) => format!("({})", holder.describe()),
        None => "held by another apply".to_owned(),
    }
}

/// `a running process holds the lock file `live.json.lock`: alice@ci-7:4242 (lease …)`.
fn running_holder(holder: &Holder) -> String {
    if holder.lease.is_some() {
        format!(
            "a running process holds {}: {}",
            holder.where_recorded(),
            holder.describe()
        )
    } else {
        format!(
            "a running process holds {}, and has not recorded who it is",
            holder.where_recorded()
        )
    }
}

/// How to wait for a lease, in every refusal's help.
const WAIT: &str = "pass --lock-timeout SECONDS to wait for it";

/// The refusal of an apply that found the lease held (`None`: taken and released by others
/// while it looked).
fn held(holder: Option<&Holder>) -> Diagnostic {
    let Some(holder) = holder else {
        return Diagnostic::new(
            Rule::LeaseHeld,
            "another apply is changing this organization: its lease was taken and released while this one looked",
        )
        .help(format!("apply again, or {WAIT}"));
    };
    let running = format!(
        "wait for it to finish, or {WAIT}; the lock goes with its process, so an apply that crashed never leaves it held"
    );
    match (&holder.lease, &holder.record, holder.unlock_id()) {
        (_, Record::LockFile(_), _) => Diagnostic::new(
            Rule::LeaseHeld,
            format!(
                "another apply is changing this snapshot: {}",
                running_holder(holder)
            ),
        )
        .help(running),
        (Some(lease), _, id) => Diagnostic::new(
            Rule::LeaseHeld,
            format!(
                "another apply is changing this organization: its lease is held by {}",
                holder.describe()
            ),
        )
        .help(format!(
            "if that apply died, `orgctl force-unlock {}` (with the same backend options) removes its lease now (it runs out by itself at {}); otherwise wait for it to finish, or {WAIT}",
            id.unwrap_or(&lease.id),
            lease.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        (None, _, id) => Diagnostic::new(
            Rule::LeaseHeld,
            format!(
                "the organization's lease cannot be read: {}, so it never runs out",
                holder.describe()
            ),
        )
        .help(format!(
            "`orgctl force-unlock {}` (with the same backend options) removes it; run it once no apply is running against this organization",
            id.unwrap_or(crate::live::lease::LEASE_TAG)
        )),
    }
}

/// The note of a lease taken over.
fn took_over(old: &Holder) -> String {
    match (&old.record, &old.lease) {
        (Record::LockFile(_), Some(_)) => format!(
            "took over the lease of an apply that ended without releasing it ({}); the operating system had released its lock",
            old.describe()
        ),
        (Record::LockFile(path), None) => format!(
            "took over the lock file `{}`, which no running process held",
            path.display()
        ),
        (_, Some(_)) => format!(
            "took over the lease held by {}: it had run out",
            old.describe()
        ),
        (_, None) => format!(
            "removed {}, which held no lease orgctl can read",
            old.where_recorded()
        ),
    }
}

/// A pause of 75 % to 125 % of `pause`, so that waiting applies do not look in step.
fn jittered(pause: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let spread = if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 255.0
    } else {
        0.5
    };
    pause.mul_f64(0.75 + spread / 2.0)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::live::Write;

    /// A writer whose lease answers follow a script, and that counts renewals.
    #[derive(Default)]
    struct Scripted {
        attempts: Mutex<Vec<LeaseAttempt>>,
        renewals: Mutex<Vec<bool>>,
        renewed: Mutex<usize>,
    }

    impl OrgWriter for Scripted {
        async fn write(
            &self,
            _: &Write,
            _: Option<&crate::live::password::PasswordFile>,
        ) -> Result<Option<String>, crate::live::Error> {
            Ok(None)
        }
        async fn take_lease(&self, _: &Lease) -> Result<LeaseAttempt, crate::live::Error> {
            let mut attempts = self.attempts.lock().unwrap();
            Ok(if attempts.is_empty() {
                LeaseAttempt::Taken { replaced: None }
            } else {
                attempts.remove(0)
            })
        }
        async fn renew_lease(&self, _: &Lease) -> Result<bool, crate::live::Error> {
            *self.renewed.lock().unwrap() += 1;
            let mut renewals = self.renewals.lock().unwrap();
            Ok(if renewals.is_empty() {
                true
            } else {
                renewals.remove(0)
            })
        }
        async fn release_lease(&self, _: &Lease) -> Result<(), crate::live::Error> {
            Ok(())
        }
        async fn force_unlock(&self, _: &str) -> Result<Unlock, crate::live::Error> {
            Ok(Unlock::Nothing)
        }
    }

    fn policy_holder(text: &str) -> Holder {
        Holder::read(Record::Policy("p-abcdefgh".to_owned()), text)
    }

    /// Work that lasts three renewals and a second.
    async fn three_renewals_long() {
        tokio::time::sleep(RENEW_EVERY * 3 + Duration::from_secs(1)).await;
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    /// The refusal of an apply that does not wait, with the lease held by `holder`.
    fn refused_at_once(holder: Holder) -> Diagnostic {
        let writer = Scripted {
            attempts: Mutex::new(vec![LeaseAttempt::Held(Some(holder))]),
            ..Scripted::default()
        };
        runtime()
            .block_on(acquire(
                &writer,
                Duration::ZERO,
                &crate::apply::Stop::never(),
            ))
            .unwrap_err()
    }

    #[test]
    fn a_held_lease_refuses_at_once_naming_the_command_to_run() {
        let error = refused_at_once(policy_holder(
            "0123456789abcdef alice@ci-7:4242 until 2999-01-01T00:00:00Z",
        ));
        assert_eq!(error.rule, Rule::LeaseHeld);
        assert!(
            error.message.contains("alice@ci-7:4242"),
            "{}",
            error.message
        );
        let help = error.help.unwrap_or_default();
        assert!(
            help.contains("`orgctl force-unlock 0123456789abcdef`"),
            "{help}"
        );
    }

    #[test]
    fn an_unreadable_lease_names_its_policy_id_and_no_date() {
        let error = refused_at_once(policy_holder(""));
        let help = error.help.clone().unwrap_or_default();
        assert!(help.contains("`orgctl force-unlock p-abcdefgh`"), "{help}");
        assert!(error.message.contains("is empty"), "{}", error.message);
        assert!(
            !format!("{} {help}", error.message).contains("until"),
            "no expiry is made up: {} {help}",
            error.message
        );
    }

    #[test]
    fn a_waiting_apply_takes_the_lease_once_it_is_released() {
        let holder = policy_holder("0123456789abcdef alice@ci-7:4242 until 2999-01-01T00:00:00Z");
        let writer = Scripted {
            attempts: Mutex::new(vec![
                LeaseAttempt::Held(Some(holder.clone())),
                LeaseAttempt::Held(Some(holder)),
            ]),
            ..Scripted::default()
        };
        let lease = runtime().block_on(acquire(
            &writer,
            Duration::from_secs(10),
            &crate::apply::Stop::never(),
        ));
        assert!(lease.is_ok());
        assert!(
            writer.attempts.lock().unwrap().is_empty(),
            "it tried three times"
        );
    }

    #[test]
    fn a_waiting_apply_gives_up_after_its_timeout() {
        let holder = policy_holder("0123456789abcdef alice@ci-7:4242 until 2999-01-01T00:00:00Z");
        let writer = Scripted {
            attempts: Mutex::new(vec![LeaseAttempt::Held(Some(holder)); 1000]),
            ..Scripted::default()
        };
        let runtime = runtime();
        let started = runtime.block_on(async { tokio::time::Instant::now() });
        let result = runtime.block_on(acquire(
            &writer,
            Duration::from_secs(30),
            &crate::apply::Stop::never(),
        ));
        let waited = runtime.block_on(async move { started.elapsed() });
        assert!(result.is_err());
        assert!(
            (Duration::from_secs(30)..Duration::from_secs(36)).contains(&waited),
            "{waited:?}"
        );
    }

    #[test]
    fn a_long_apply_renews_its_lease() {
        let writer = Scripted::default();
        let lease = Lease::new(LEASE_DURATION);
        let ((), held) = runtime().block_on(hold(&writer, lease.clone(), three_renewals_long()));
        assert_eq!(*writer.renewed.lock().unwrap(), 3);
        assert_eq!(held.id, lease.id);
    }

    #[test]
    fn a_lease_found_removed_is_not_renewed_again() {
        let writer = Scripted {
            renewals: Mutex::new(vec![false]),
            ..Scripted::default()
        };
        let lease = Lease::new(LEASE_DURATION);
        runtime().block_on(hold(&writer, lease, three_renewals_long()));
        assert_eq!(*writer.renewed.lock().unwrap(), 1);
    }
}
