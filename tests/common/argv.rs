//! Every command line seen in /proc while tools run: the tests that show
//! no secret value reaches an argv (`secrets_e2e`, `secrets_kill`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every command line seen in /proc while it runs, sampled every 2 ms.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<HashSet<Vec<u8>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let (s, v) = (Arc::clone(&stop), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Ok(rd) = std::fs::read_dir("/proc") {
                    let mut batch = Vec::new();
                    for e in rd.flatten() {
                        let n = e.file_name();
                        if n.to_string_lossy().bytes().all(|b| b.is_ascii_digit())
                            && let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
                            && !cmd.is_empty()
                        {
                            batch.push(cmd);
                        }
                    }
                    v.lock().unwrap().extend(batch);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Self {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> HashSet<Vec<u8>> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        std::mem::take(&mut self.seen.lock().unwrap())
    }
}

/// Whether `needle` (not empty) is in `hay`.
pub fn contains(hay: &[u8], needle: &str) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}
