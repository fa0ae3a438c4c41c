//! Waiting for the socket on the caller's own thread: a short spin, then a sleep in `poll`.
//!
//! A `recv` that has to wait polls the socket itself instead of sleeping on a condition variable
//! until the I/O thread has read the message and handed it over: the thread the kernel wakes is
//! the one that wants the data, so a round trip costs no extra thread hop. `flush` does the same
//! for room to write. A wake descriptor per connection (created on first use: an eventfd on
//! Linux and Android, a socket pair elsewhere) lets `close` on another thread interrupt those
//! waits. It is only ever signalled when the connection ends, and never reset, so it wakes
//! every thread that waits and any later wait returns at once (callers re-check the state).
//!
//! Before it sleeps, a wait spins for up to the connection's spin budget (`spin_budget_us`):
//! it asks the kernel whether the socket or the wake descriptor is ready (`poll` with a zero
//! timeout, so no lock is held and the I/O thread keeps its timers), with
//! `std::hint::spin_loop` between the checks. A thread that sleeps pays the kernel's and the
//! hypervisor's wake-up (about 50 µs on a virtual machine) on top of the answer's own time; a
//! fast peer's answer is caught by the spin without it. Whether to spin is decided per
//! connection and direction by `SpinRule` (in `spin.rs`): only while recent answers arrived
//! within the budget, so a game waiting on a slow trainer sleeps at once and burns no CPU. A
//! `recv` that waits for the rest of a message already begun does not spin (the rest comes at
//! the network's pace, and a spin would end at every few bytes, each costing a read).
//!
//! Only on Unix; elsewhere these threads wait on the condition variable and the I/O thread does
//! the reading and writing.

#[cfg(unix)]
mod imp {
    use crate::client::spin::SpinRule;
    use std::os::unix::io::{AsRawFd, RawFd};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// The descriptor `close` signals.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    mod wake_fd {
        use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd, RawFd};

        pub struct WakeFd(OwnedFd);

        impl WakeFd {
            pub fn new() -> Option<WakeFd> {
                // SAFETY: eventfd has no pointer arguments; a valid descriptor is owned below.
                let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
                // SAFETY: `fd` is a fresh descriptor that nothing else owns.
                (fd >= 0).then(|| WakeFd(unsafe { OwnedFd::from_raw_fd(fd) }))
            }

            pub fn signal(&self) {
                let one: u64 = 1;
                // SAFETY: writes 8 bytes from a live u64 to our own eventfd.
                let _ = unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
            }

            pub fn fd(&self) -> RawFd {
                self.0.as_raw_fd()
            }
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    mod wake_fd {
        use std::io::Write;
        use std::os::unix::io::{AsRawFd, RawFd};
        use std::os::unix::net::UnixStream;

        pub struct WakeFd(UnixStream, UnixStream);

        impl WakeFd {
            pub fn new() -> Option<WakeFd> {
                let (r, w) = UnixStream::pair().ok()?;
                r.set_nonblocking(true).ok()?;
                w.set_nonblocking(true).ok()?;
                Some(WakeFd(r, w))
            }

            pub fn signal(&self) {
                let _ = (&self.1).write(&[1]);
            }

            pub fn fd(&self) -> RawFd {
                self.0.as_raw_fd()
            }
        }
    }

    use wake_fd::WakeFd;

    /// The per-connection wake descriptor, and the spin rule of each direction.
    pub struct Waker {
        fd: OnceLock<Option<WakeFd>>,
        /// `[read, write]`.
        rules: [SpinRule; 2],
    }

    /// Spin-loop hints between two readiness checks: a check is a system call (about a
    /// microsecond on a virtual machine), the hints leave the core to a sibling thread meanwhile.
    const HINTS_PER_CHECK: u32 = 16;

    impl Waker {
        /// `spin`: the spin budget of each wait (zero: never spin).
        pub fn new(spin: Duration) -> Waker {
            Waker {
                fd: OnceLock::new(),
                rules: [SpinRule::new(spin), SpinRule::new(spin)],
            }
        }

        fn get(&self) -> Option<&WakeFd> {
            self.fd.get_or_init(WakeFd::new).as_ref()
        }

        /// Creates the wake descriptor if needed; `false` if it cannot be created (then there
        /// is no direct wait).
        pub fn available(&self) -> bool {
            self.get().is_some()
        }

        /// Interrupts every wait in progress, and makes later ones return at once.
        pub fn wake(&self) {
            if let Some(Some(w)) = self.fd.get() {
                w.signal();
            }
        }

        /// Waits until `fd` is readable (or, with `write`, writable), `wake` was called, or
        /// `deadline` passes: first spinning, if `spin` and the direction's `SpinRule` say so,
        /// then sleeping in `poll`. Returns `false` without waiting if there is no wake
        /// descriptor. (`spin` false: the caller waits for the rest of a message, which comes
        /// at the network's pace; such a wait is no answer and is not recorded.)
        pub fn wait(&self, fd: RawFd, write: bool, deadline: Option<Instant>, spin: bool) -> bool {
            let Some(w) = self.get() else {
                return false;
            };
            let mut fds = [
                libc::pollfd {
                    fd,
                    events: if write { libc::POLLOUT } else { libc::POLLIN },
                    revents: 0,
                },
                libc::pollfd {
                    fd: w.fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let rule = &self.rules[usize::from(write)];
            let start = Instant::now();
            if !spin {
                poll(&mut fds, poll_timeout(deadline));
                return true;
            }
            let spin = rule.plan();
            if !spin.is_zero() {
                let end = deadline.map_or(start + spin, |d| d.min(start + spin));
                loop {
                    if poll(&mut fds, 0) {
                        if fds[0].revents != 0 {
                            rule.record(start.elapsed(), true);
                        }
                        return true;
                    }
                    let now = Instant::now();
                    if now >= end {
                        if deadline.is_some_and(|d| now >= d) {
                            return true; // the caller reports its timeout
                        }
                        break;
                    }
                    for _ in 0..HINTS_PER_CHECK {
                        std::hint::spin_loop();
                    }
                }
            }
            if poll(&mut fds, poll_timeout(deadline)) && fds[0].revents != 0 {
                rule.record(start.elapsed(), !spin.is_zero());
            }
            true
        }
    }

    /// `poll`'s timeout for `deadline`, in milliseconds (-1: none).
    fn poll_timeout(deadline: Option<Instant>) -> i32 {
        match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up: waking before the deadline would only spin.
                let ms = left.as_nanos().div_ceil(1_000_000);
                ms.min(i32::MAX as u128) as i32
            }
        }
    }

    /// `poll(2)` on `fds`; `true` if any of them is ready.
    fn poll(fds: &mut [libc::pollfd; 2], timeout_ms: i32) -> bool {
        // SAFETY: `fds` is a valid array of two pollfd structures for the whole call.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) > 0 }
    }

    pub type Fd = RawFd;
    pub const NO_FD: Fd = -1;

    pub fn fd_of(tcp: &mio::net::TcpStream) -> Fd {
        tcp.as_raw_fd()
    }
}

#[cfg(not(unix))]
mod imp {
    use std::time::{Duration, Instant};

    /// No direct waiting on this platform (so no spin either): callers use the condition
    /// variable.
    pub struct Waker;

    impl Waker {
        pub fn new(_spin: Duration) -> Waker {
            Waker
        }

        pub fn available(&self) -> bool {
            false
        }

        pub fn wake(&self) {}

        pub fn wait(&self, _fd: Fd, _write: bool, _deadline: Option<Instant>, _spin: bool) -> bool {
            false
        }
    }

    pub type Fd = i32;
    pub const NO_FD: Fd = -1;

    pub fn fd_of(_tcp: &mio::net::TcpStream) -> Fd {
        NO_FD
    }
}

pub use imp::{fd_of, Fd, Waker, NO_FD};
