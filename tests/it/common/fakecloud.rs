//! A fakecloud server (the second AWS API emulator) on a loopback port, shared by the tests of
//! this binary.
//!
//! It is the small server of `tests/fakecloud/` (fakecloud's Organizations, Account Management,
//! IAM and STS only), built by scripts/fakecloud-build.sh; the `ORGCTL_FAKECLOUD_SERVER` variable
//! points elsewhere. It is AGPL and runs as a separate process, never linked into orgctl. Started
//! once, under a shell that kills it when this test process exits (the shell waits on a pipe only
//! we hold). Tests take [`Fakecloud::lock`], which resets the emulator, so each starts from an
//! empty AWS: requests with unknown credentials, as orgctl's tests send them, act as the account
//! `123456789012`, which has no organization until a test creates one.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_account as account;

use super::{Emulator, moto::credentials, root};

/// The running server.
pub struct Fakecloud {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _guard: Mutex<Child>,
}

static SERVER: OnceLock<Fakecloud> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());

impl Emulator for Fakecloud {
    fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Fakecloud {
    /// The shared server, reset, held for the caller's test.
    pub fn lock() -> (MutexGuard<'static, ()>, &'static Fakecloud) {
        let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let fakecloud = SERVER.get_or_init(start);
        fakecloud.post("/_orgctl/reset");
        (guard, fakecloud)
    }

    /// A minimal HTTP POST to the server's own routes: the whole answer, headers and body.
    pub fn post(&self, path: &str) -> String {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("fakecloud answers");
        write!(stream, "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .expect("fakecloud takes the request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("fakecloud responds");
        assert!(response.starts_with("HTTP/1.1 200"), "{path}: {response}");
        response
    }

    /// An Account Management client, with the dummy credentials of the default account.
    pub fn account_client(&self) -> account::Client {
        let config = account::Config::builder()
            .behavior_version(account::config::BehaviorVersion::latest())
            .region(account::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(credentials())
            .build();
        account::Client::from_conf(config)
    }
}

/// The server binary: `ORGCTL_FAKECLOUD_SERVER`, or where scripts/fakecloud-build.sh puts it.
fn binary() -> PathBuf {
    std::env::var_os("ORGCTL_FAKECLOUD_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/fakecloud/target/server/orgctl-fakecloud"))
}

fn start() -> Fakecloud {
    let binary = binary();
    assert!(
        binary.is_file(),
        "the fakecloud server is not at {}: run scripts/fakecloud-build.sh (scripts/test.sh does)",
        binary.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let script = format!(
        "'{}' {port} >/dev/null 2>&1 & server=$!; cat >/dev/null; kill $server",
        binary.display()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts the fakecloud server");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the fakecloud server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Fakecloud {
        endpoint: format!("http://127.0.0.1:{port}"),
        _guard: Mutex::new(child),
    }
}
