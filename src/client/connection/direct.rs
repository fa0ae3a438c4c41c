//! Direct I/O: a caller's thread that waits on the open socket itself (a `recv` for data, a
//! `flush` for room to write) instead of waiting for the I/O thread, and the socket's
//! registration with the I/O thread meanwhile. The state is in `polls.rs`; the polling itself
//! (spin, then `poll`) in `client/wait.rs`.
//!
//! One way through, for both directions: `begin_direct` (under the `io` lock: may this thread
//! wait on the socket? then the I/O thread stops watching that direction), `wait_direct` (the
//! lock released, the thread waits on the socket), the work (under the lock again), then
//! `end_direct` (the direction goes back to the I/O thread). The callers are `receive.rs`
//! (`wait_on_socket`) and `send.rs` (`write_on_socket`); they do the work themselves (`pump`,
//! `flush`), this file never calls back into them.

use super::*;
use crate::client::wait::Fd;
use std::sync::MutexGuard;

/// A direct wait that `begin_direct` allowed.
pub(super) struct DirectWait {
    fd: Fd,
    direction: Direction,
    spin: bool,
}

impl Shared {
    /// Starts a direct wait in `direction` and returns it with the `io` lock: `None` if none is
    /// possible now (not open, another thread already waits this way, reading is held, no wake
    /// descriptor), and the caller then waits for the I/O thread. Otherwise the direction is
    /// this thread's until `end_direct`; the flag is up while this thread does the work too, so
    /// the registration updates inside that work never hand the direction back to the I/O
    /// thread for a moment.
    pub(super) fn begin_direct(
        &self,
        direction: Direction,
    ) -> Option<(MutexGuard<'_, Io>, DirectWait)> {
        let fd = self.direct.fd()?;
        let mut io = lock(&self.io);
        // While reading is held (`Io::read_held`) the socket stays readable: polling it would
        // spin. The caller waits for the I/O thread, which resumes reading.
        let held = direction == Direction::Read && io.read_held;
        if held || io.polls.polling(direction) || !matches!(io.phase, Phase::Open(_)) {
            return None;
        }
        io.polls.set_polling(direction, true);
        let spin = direction == Direction::Write || !io.polls.mid_message;
        Some((
            io,
            DirectWait {
                fd,
                direction,
                spin,
            },
        ))
    }

    /// Stops the I/O thread watching the direction, releases the `io` lock, waits on the
    /// socket until it is ready, `close` wakes us, or `deadline`; returns the lock again.
    pub(super) fn wait_direct<'a>(
        &'a self,
        mut io: MutexGuard<'a, Io>,
        wait: DirectWait,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, Io> {
        self.update_interest(&mut io);
        drop(io);
        self.direct
            .wait(wait.fd, wait.direction, deadline, wait.spin);
        lock(&self.io)
    }

    /// Ends a direct wait: the direction goes back to the I/O thread.
    pub(super) fn end_direct(&self, io: &mut Io, direction: Direction) {
        io.polls.set_polling(direction, false);
        self.update_interest(io);
        self.poke_if_needed(io);
    }

    /// Registers the open socket with the I/O thread for what it must watch (`Polls::wanted`).
    /// A system call only when that changes.
    pub(super) fn update_interest(&self, io: &mut Io) {
        let want = io.polls.wanted(io.drained());
        if want == io.polls.interest {
            return;
        }
        let (Phase::Open(ws) | Phase::Lingering(ws)) = &mut io.phase else {
            return;
        };
        let registry = self.rt.registry();
        let tcp = ws.get_mut().tcp_mut();
        let done = match (io.polls.interest, want) {
            (None, Some(i)) => registry.register(tcp, self.token, i),
            (Some(_), Some(i)) => registry.reregister(tcp, self.token, i),
            (Some(_), None) => registry.deregister(tcp),
            (None, None) => Ok(()),
        };
        if done.is_ok() {
            io.polls.interest = want;
        }
    }
}
