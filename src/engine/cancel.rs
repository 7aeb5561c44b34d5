//! Cooperative cancellation. The runner checks a [`Cancel`] token before each (replicate, PCN)
//! unit of work, so an interrupted run stops within one unit and returns instead of being
//! killed halfway through writing its outputs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared flag: set once (by a signal handler, say), seen by every worker.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
