//! Running orgctl at a terminal: `apply` asks for confirmation only when its standard input is
//! one. The command runs under util-linux's `script`, which gives it a pseudo-terminal and copies
//! what the test writes to its keyboard (`\x03` is Ctrl-C: the terminal turns it into `SIGINT`
//! for the foreground process, as a real one does) and what it prints to the test.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A command running at a pseudo-terminal.
pub struct Terminal {
    child: Child,
    keyboard: Option<ChildStdin>,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// `text` in single quotes for `sh`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Terminal {
    /// Starts `command` (its program, arguments, working directory and the variables it sets;
    /// nothing else of this process's environment but `PATH`) at a terminal.
    pub fn start(command: &Command) -> Terminal {
        let line = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|part| quoted(&part.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ");
        let mut script = Command::new("script");
        // `exec`, so that the terminal's Ctrl-C reaches orgctl and no shell in between.
        script
            .args(["-q", "-e", "-c", &format!("exec {line}"), "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => script.env(key, value),
                None => script.env_remove(key),
            };
        }
        if let Some(directory) = command.get_current_dir() {
            script.current_dir(directory);
        }
        let mut child = script
            .spawn()
            .expect("util-linux `script` runs (it gives orgctl a terminal)");
        let keyboard = child.stdin.take();
        let mut stdout = child.stdout.take().expect("piped");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let screen = Arc::clone(&screen);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(read) = stdout.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    screen.lock().expect("the screen").extend(&buffer[..read]);
                }
            })
        };
        Terminal {
            child,
            keyboard,
            screen,
            reader: Some(reader),
        }
    }

    /// What the terminal shows so far, with its line ends as `\n`.
    pub fn screen(&self) -> String {
        let bytes = self.screen.lock().expect("the screen").clone();
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }

    /// Waits up to a minute for `text` to show; fails the test (and stops the command) otherwise.
    pub fn wait_for(&mut self, text: &str) {
        let started = Instant::now();
        while !self.screen().contains(text) {
            if started.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("`{text}` did not show within a minute:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `keys`.
    pub fn type_keys(&mut self, keys: &[u8]) {
        let keyboard = self.keyboard.as_mut().expect("the keyboard is open");
        keyboard.write_all(keys).expect("typed");
        keyboard.flush().expect("typed");
    }

    /// Waits for the command to end; its exit code and the whole screen.
    pub fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("the command ends");
        drop(self.keyboard.take());
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the screen was read");
        }
        (status.code(), self.screen())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // A test that failed midway leaves no process behind.
        if self.reader.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
