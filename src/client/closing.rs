//! Closes that finish in the background (`Connection::close_async`): the connections whose
//! close handshake is still under way, kept alive here until it ends, so that the caller
//! returns at once and `wsb_shutdown` can still wait for them.
//!
//! Releasing a connection may stop (and join) wsbridge's background threads, which the I/O
//! thread cannot do to itself: so the I/O thread never releases one. A finished close is
//! released by the next caller's thread that comes by (`reap`, called by the connection
//! functions of the C ABI), or by `wait_all`.

use crate::sync::lock;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A connection closing in the background, as this file needs it.
pub(super) trait Closing: Send + Sync {
    /// Waits until its socket is gone, or `deadline`; `true` if gone.
    fn wait_gone(&self, deadline: Option<Instant>) -> bool;
    /// Its close handshake was not answered within its timeout.
    fn timed_out(&self) -> bool;
}

static CLOSING: Mutex<Vec<Arc<dyn Closing>>> = Mutex::new(Vec::new());

/// Keeps `c` until its close has finished.
pub(super) fn keep(c: Arc<dyn Closing>) {
    reap();
    lock(&CLOSING).push(c);
}

/// Releases the connections whose close has finished (outside the lock: the last release
/// joins the background threads).
pub(super) fn reap() {
    let done: Vec<Arc<dyn Closing>> = {
        let mut all = lock(&CLOSING);
        if all.is_empty() {
            return;
        }
        let (done, open) = std::mem::take(&mut *all)
            .into_iter()
            .partition(|c| c.wait_gone(Some(Instant::now())));
        *all = open;
        done
    };
    drop(done);
}

/// Waits for every background close until `deadline`, then releases them all (dropping those
/// still under way). Returns (how many, how many did not complete their handshake in time).
pub(super) fn wait_all(deadline: Option<Instant>) -> (usize, usize) {
    let all = std::mem::take(&mut *lock(&CLOSING));
    let total = all.len();
    let late = all
        .iter()
        .filter(|c| !c.wait_gone(deadline) || c.timed_out())
        .count();
    drop(all);
    (total, late)
}
