//! A fault-injecting HTTP proxy (`tests/fault_proxy.py`) between orgctl and moto.
//!
//! Each test starts its own, in front of the shared moto server, with a seed and a fault rate;
//! the proxy throttles, fails, delays or drops that fraction of the requests (see the script's
//! docstring), never more than three in a row, so the SDK's retries always get through. It runs
//! under `.venv/bin/python` (scripts/moto-venv.sh makes the venv) and exits when its stdin, a
//! pipe only this process holds, closes: when the [`FaultProxy`] is dropped, or this process ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use super::root;

/// A running fault proxy; dropping it stops the proxy.
pub struct FaultProxy {
    /// The proxy's URL, `http://127.0.0.1:<port>`, to use as the AWS endpoint.
    pub endpoint: String,
    child: Child,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (moto's endpoint) that faults a fraction `rate` of
    /// the requests, chosen from a sequence that `seed` fixes.
    pub fn start(upstream: &str, seed: u64, rate: f64) -> FaultProxy {
        let python = root().join(".venv/bin/python");
        assert!(
            python.is_file(),
            "python not found at {}: run scripts/moto-venv.sh (scripts/test.sh does)",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(root().join("tests/fault_proxy.py"))
            .args(["--upstream", upstream])
            .args(["--seed", &seed.to_string()])
            .args(["--rate", &rate.to_string()])
            .args(["--max-consecutive", "3"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python starts tests/fault_proxy.py");
        let stdout = child.stdout.take().expect("the proxy's stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the proxy prints its port");
        let port: u16 = match line.trim().strip_prefix("listening on ") {
            Some(port) => port.parse().expect("the proxy prints a port number"),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the fault proxy did not start: it printed {line:?}");
            }
        };
        FaultProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// The proxy's counters, as JSON: `{"requests": n, "forwarded": n, "faults": {"throttle": n, ...}}`.
    pub fn stats(&self) -> String {
        self.request("GET", "/fault-proxy/stats", "")
    }

    /// Changes the proxy's settings with a JSON object holding any of `rate`, `seed`, `faults`
    /// (a list of fault names) and `max_consecutive`; `{"rate": 0}` turns faults off.
    pub fn configure(&self, json: &str) {
        self.request("POST", "/fault-proxy/config", json);
    }

    /// A minimal HTTP request to the proxy's control API; returns the response's body.
    fn request(&self, method: &str, path: &str, body: &str) -> String {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("the fault proxy answers");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("the fault proxy takes the request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("the fault proxy responds");
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{method} {path}: {response}"
        );
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Killing is enough; closing stdin (when `child` drops) would stop it as well.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
