//! Opening the live organization: [`Options`] say which backend and how to reach it,
//! [`Backend::open`] opens it, and commands read, write and take the lease through the one
//! [`Backend`] value, whichever backend it is. A new backend is a folder beside `aws` and
//! `snapshot`, its arm in `dispatch!` and in [`Backend::open`], and its field of [`Options`].

use std::path::PathBuf;

use super::aws::{self, Aws, AwsWriter};
use super::snapshot::{Snapshot, SnapshotWriter};
use super::{
    Error, Lease, LeaseAttempt, LiveContact, LiveIam, LiveInvitation, LiveState, OrgReader,
    OrgWriter, Unlock, Write,
};
use crate::config::ContactType;

/// Runs `$body` with `$writer` bound to the backend `$backend` holds: the one list of arms, so
/// that a new backend is one arm here (and one in [`Backend::open`]).
macro_rules! dispatch {
    ($backend:expr, $writer:ident => $body:expr) => {
        match $backend {
            Backend::Snapshot($writer) => $body,
            Backend::Aws($writer) => $body,
        }
    };
}

/// Which backend to open, and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read (and write) this snapshot file instead of AWS (`--state FILE`).
    pub snapshot: Option<PathBuf>,
    /// How to reach AWS, when there is no snapshot.
    pub aws: aws::Options,
    /// Whether the backend will be written to (`apply`, `force-unlock`): the aws backend then
    /// finds the organization's root as it opens, so that credentials that cannot reach the
    /// organization fail before any lease is taken.
    pub writes: bool,
}

/// The live organization, opened: one arm per backend. It reads and writes through the
/// backend's own [`OrgReader`] and [`OrgWriter`].
#[derive(Debug)]
pub enum Backend {
    /// A snapshot file.
    Snapshot(Box<SnapshotWriter>),
    /// AWS Organizations.
    Aws(Box<AwsWriter>),
}

impl Backend {
    /// Opens the backend `options` choose. A snapshot is not read until [`OrgReader::read`];
    /// AWS's configuration and credentials are loaded now.
    pub async fn open(options: &Options) -> Result<Self, Error> {
        if let Some(path) = &options.snapshot {
            return Ok(Backend::Snapshot(Box::new(SnapshotWriter::new(
                Snapshot::new(path),
            ))));
        }
        let writer = AwsWriter::new(Aws::connect(&options.aws).await?);
        if options.writes {
            writer.root_id().await?;
        }
        Ok(Backend::Aws(Box::new(writer)))
    }

    /// How commands name the backend: the snapshot's path, `AWS`, `AWS profile <name>` or `AWS
    /// at <endpoint>`.
    pub fn describe(&self) -> String {
        dispatch!(self, writer => writer.describe())
    }

    /// `orgctl: N AWS requests (retries included)`, for `-v`; `None` for a backend that sends
    /// no requests.
    pub fn request_report(&self) -> Option<String> {
        dispatch!(self, writer => writer.request_report())
    }
}

impl OrgReader for Backend {
    async fn read(&self) -> Result<LiveState, Error> {
        dispatch!(self, writer => writer.read().await)
    }

    async fn read_iam(
        &self,
        accounts: &[String],
        access_role: &str,
    ) -> Result<Option<Vec<LiveIam>>, Error> {
        dispatch!(self, writer => writer.read_iam(accounts, access_role).await)
    }

    async fn read_contacts(
        &self,
        wanted: &[(String, ContactType)],
    ) -> Result<Option<Vec<LiveContact>>, Error> {
        dispatch!(self, writer => writer.read_contacts(wanted).await)
    }

    async fn read_invitations(
        &self,
        management: &str,
    ) -> Result<Option<Vec<LiveInvitation>>, Error> {
        dispatch!(self, writer => writer.read_invitations(management).await)
    }
}

impl OrgWriter for Backend {
    async fn write(
        &self,
        write: &Write,
        password_file: Option<&super::password::PasswordFile>,
    ) -> Result<Option<String>, Error> {
        dispatch!(self, writer => writer.write(write, password_file).await)
    }

    async fn take_lease(&self, lease: &Lease) -> Result<LeaseAttempt, Error> {
        dispatch!(self, writer => writer.take_lease(lease).await)
    }

    async fn renew_lease(&self, lease: &Lease) -> Result<bool, Error> {
        dispatch!(self, writer => writer.renew_lease(lease).await)
    }

    async fn release_lease(&self, lease: &Lease) -> Result<(), Error> {
        dispatch!(self, writer => writer.release_lease(lease).await)
    }

    async fn force_unlock(&self, id: &str) -> Result<Unlock, Error> {
        dispatch!(self, writer => writer.force_unlock(id).await)
    }

    async fn finish(&self) -> Result<(), Error> {
        dispatch!(self, writer => writer.finish().await)
    }

    fn requests(&self) -> Option<usize> {
        dispatch!(self, writer => writer.requests())
    }
}
