//! Who reads and writes the open socket: the I/O thread, or a caller's thread waiting on it
//! directly (`direct.rs` has the steps). [`Direct`] sits in `Shared`, outside any lock: the
//! socket's descriptor and the wake descriptor that `close` signals from another thread.
//! [`Polls`] sits under the `io` lock: which direction a caller's thread polls, read parking,
//! and what the socket is registered for with the I/O thread.

use crate::client::wait::{self, Fd, Waker};
use mio::net::TcpStream;
use mio::Interest;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// After a `recv` has read the socket itself, the I/O thread leaves reading to the caller's
/// thread for this long: a game in a lockstep loop calls `recv` again well before, so its
/// messages wake only the thread that wants them. If it does not, the I/O thread takes reading
/// back (keepalive answers, receive queue) when this has passed.
const READ_PARK: Duration = Duration::from_millis(50);

/// What a caller's thread waits on the socket for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Read,
    Write,
}

/// The descriptors a direct wait polls: the open socket's (`NO_FD` when not open) and the wake
/// descriptor in `waker`.
pub(super) struct Direct {
    fd: AtomicI32,
    waker: Waker,
}

impl Direct {
    /// `spin`: the spin budget of each wait (`spin_budget_us`).
    pub fn new(spin: Duration) -> Direct {
        Direct {
            fd: AtomicI32::new(wait::NO_FD),
            waker: Waker::new(spin),
        }
    }

    /// The connection opened on `tcp`: direct waits may poll it.
    pub fn open(&self, tcp: &TcpStream) {
        self.fd.store(wait::fd_of(tcp), Ordering::Release);
    }

    /// The socket is going: no new direct wait may start on it.
    pub fn forget_socket(&self) {
        self.fd.store(wait::NO_FD, Ordering::Release);
    }

    /// Interrupts every direct wait in progress, and makes later ones return at once.
    pub fn wake(&self) {
        self.waker.wake();
    }

    /// Waits on `fd` (see `Waker::wait`).
    pub fn wait(&self, fd: Fd, direction: Direction, deadline: Option<Instant>, spin: bool) {
        self.waker
            .wait(fd, direction == Direction::Write, deadline, spin);
    }

    /// The descriptor to poll, if a direct wait is possible at all (open, and a wake
    /// descriptor exists on this platform).
    pub fn fd(&self) -> Option<Fd> {
        let fd = self.fd.load(Ordering::Acquire);
        (fd != wait::NO_FD && self.waker.available()).then_some(fd)
    }
}

/// Which direction a caller's thread polls, read parking, and what the I/O thread watches.
pub(super) struct Polls {
    /// A `recv` is polling the socket on its own thread: it reads, the I/O thread does not.
    reader: bool,
    /// A `flush` polls the socket for room on its own thread and writes itself: the I/O thread
    /// does not watch writes meanwhile.
    writer: bool,
    /// A `recv` read the socket itself recently (at `last_direct_read`): the I/O thread is not
    /// asked for read readiness until `READ_PARK` has passed without another one.
    read_parked: bool,
    last_direct_read: Instant,
    /// The last read on a `recv`'s thread took in part of a message and no whole one: the next
    /// wait is for the rest of it, which comes at the network's pace, so it does not spin
    /// (each spin would end at the next few bytes, and each short read costs a pass through
    /// tungstenite's read path; see `wait.rs`).
    pub mid_message: bool,
    /// What the socket is registered for with the I/O thread once open (`None`: nothing);
    /// kept by `Shared::update_interest`.
    pub interest: Option<Interest>,
}

impl Polls {
    pub fn new() -> Polls {
        Polls {
            reader: false,
            writer: false,
            read_parked: false,
            last_direct_read: Instant::now(),
            mid_message: false,
            // `connect_next` registers the socket for both while connecting.
            interest: Some(Interest::READABLE | Interest::WRITABLE),
        }
    }

    /// Whether a caller's thread polls the socket for this direction now.
    pub fn polling(&self, direction: Direction) -> bool {
        match direction {
            Direction::Read => self.reader,
            Direction::Write => self.writer,
        }
    }

    pub fn set_polling(&mut self, direction: Direction, on: bool) {
        match direction {
            Direction::Read => self.reader = on,
            Direction::Write => self.writer = on,
        }
    }

    /// A `recv`'s thread has just read the socket itself: `partial` if it took in bytes but
    /// no whole message. Returns `true` when the I/O thread must be told (the first read of a
    /// run: it must learn when to take reading back).
    pub fn record_direct_read(&mut self, partial: bool) -> bool {
        self.mid_message = partial;
        self.last_direct_read = Instant::now();
        !std::mem::replace(&mut self.read_parked, true)
    }

    /// The I/O thread reads again at once (`close` wants the reply read whoever waits).
    pub fn unpark_reads(&mut self) {
        self.read_parked = false;
    }

    /// When the I/O thread takes reading back, if a `recv` read the socket lately.
    pub fn reads_back_at(&self) -> Option<Instant> {
        self.read_parked.then(|| self.last_direct_read + READ_PARK)
    }

    /// The I/O thread's timer: `true` if reading just went back to it (no `recv` read the
    /// socket for `READ_PARK`); the registration must then be updated.
    pub fn take_reads_back(&mut self, now: Instant) -> bool {
        let due = self.reads_back_at().is_some_and(|at| now >= at);
        if due {
            self.read_parked = false;
        }
        due
    }

    /// What the I/O thread must watch: reads unless a `recv` reads the socket itself (now or
    /// lately), writes while output waits (`drained` false) and no `flush` writes it itself.
    pub fn wanted(&self, drained: bool) -> Option<Interest> {
        let read = !self.reader && !self.read_parked;
        let write = !self.writer && !drained;
        match (read, write) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }
}
