//! Lock helpers: a panic on another thread (caught at the C boundary) must not turn every later
//! call into a second panic, so poisoned locks are entered anyway. Every structure guarded here
//! is kept consistent at each point where a panic could unwind.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Locks `m`, ignoring poisoning.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits on `cv` until notified or until `deadline` (`None`: no deadline). Returns the guard;
/// callers re-check their condition, so spurious wake-ups are harmless.
pub fn wait_until<'a, T>(
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    deadline: Option<Instant>,
) -> MutexGuard<'a, T> {
    match deadline {
        None => cv.wait(guard).unwrap_or_else(|e| e.into_inner()),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            cv.wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0
        }
    }
}
