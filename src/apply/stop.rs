//! Stopping an apply from outside: Ctrl-C (`SIGINT`) and `SIGTERM`.
//!
//! Once an apply may hold the organization's lease, orgctl catches both signals instead of dying
//! at once: a process killed in the middle leaves its lease behind (for an hour on AWS) and a
//! snapshot without the changes it made. A [`Stop`] tells every stage that a signal came: the
//! lease wait gives up, the confirmation prompt stops asking, the executor starts no more
//! changes and lets those in flight end; then the snapshot is saved, the lease released, and
//! orgctl exits with `128 + the signal's number`.

use tokio::sync::watch;

/// A signal that asked orgctl to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `SIGINT`: Ctrl-C on a terminal.
    Interrupt,
    /// `SIGTERM`: `kill`, a CI runner cancelling the job, a container stopping.
    Terminate,
}

impl Signal {
    /// Its name, as messages give it: `SIGINT`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }

    /// Its number, which shells add to 128 for the exit code of a process it stopped.
    pub const fn number(self) -> u8 {
        match self {
            Self::Interrupt => 2,
            Self::Terminate => 15,
        }
    }
}

/// Whether a signal asked orgctl to stop, and a way to wait for one.
#[derive(Debug, Clone)]
pub struct Stop {
    signal: watch::Receiver<Option<Signal>>,
}

impl Stop {
    /// Catches `SIGINT` and `SIGTERM` from now on, for the rest of the process: the first one
    /// asks every holder of this [`Stop`] to stop; later ones only say that orgctl is stopping.
    /// Needs a Tokio runtime with its IO driver.
    pub fn on_signals() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let (sender, receiver) = watch::channel(None);
        tokio::spawn(async move {
            loop {
                let caught = tokio::select! {
                    Some(()) = interrupt.recv() => Signal::Interrupt,
                    Some(()) = terminate.recv() => Signal::Terminate,
                    else => break,
                };
                if sender.borrow().is_some() {
                    eprintln!(
                        "orgctl: {} again: still stopping; the changes in flight end, then the lease is released (SIGKILL would leave it)",
                        caught.name()
                    );
                } else {
                    sender.send_replace(Some(caught));
                }
            }
        });
        Ok(Self { signal: receiver })
    }

    /// A stop that never comes (tests, and callers that catch no signal).
    pub fn never() -> Self {
        let (_sender, receiver) = watch::channel(None);
        Self { signal: receiver }
    }

    /// A stop that the test holding the sender asks for.
    #[cfg(test)]
    pub(crate) fn by_hand() -> (watch::Sender<Option<Signal>>, Self) {
        let (sender, receiver) = watch::channel(None);
        (sender, Self { signal: receiver })
    }

    /// The signal that asked orgctl to stop, if one has.
    pub fn signal(&self) -> Option<Signal> {
        *self.signal.borrow()
    }

    /// Waits for a signal; never returns for [`Stop::never`].
    pub async fn requested(&self) -> Signal {
        let mut signal = self.signal.clone();
        loop {
            if let Some(caught) = *signal.borrow_and_update() {
                return caught;
            }
            if signal.changed().await.is_err() {
                // No sender: no signal will ever come.
                std::future::pending::<()>().await;
            }
        }
    }
}

impl Default for Stop {
    fn default() -> Self {
        Self::never()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_that_never_comes_has_no_signal() {
        let stop = Stop::never();
        assert_eq!(stop.signal(), None);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let waited = runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(3600), stop.requested()).await
        });
        assert!(waited.is_err(), "it never returns");
    }
}
