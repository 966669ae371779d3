//! SIGINT and SIGTERM during a backup, restore or reset: a flag the long
//! steps poll, so they stop cleanly; a second signal kills at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// SIGINT and SIGTERM set a flag while this lives; a second one kills at once.
pub(crate) struct Signals {
    pub(crate) flag: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Signals {
    pub(crate) fn catch() -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if let Ok(id) = signal_hook::flag::register_conditional_default(sig, Arc::clone(&flag))
            {
                ids.push(id);
            }
            if let Ok(id) = signal_hook::flag::register(sig, Arc::clone(&flag)) {
                ids.push(id);
            }
        }
        Self { flag, ids }
    }

    pub(crate) fn raised(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
