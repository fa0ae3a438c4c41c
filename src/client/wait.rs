//! Waiting for the socket on the caller's own thread.
//!
//! A `recv` that has to wait polls the socket itself instead of sleeping on a condition variable
//! until the I/O thread has read the message and handed it over: the thread the kernel wakes is
//! the one that wants the data, so a round trip costs no extra thread hop. `flush` does the same
//! for room to write. A wake descriptor per connection (created on first use: an eventfd on
//! Linux and Android, a socket pair elsewhere) lets `close` on another thread interrupt those
//! waits. It is only ever signalled when the connection ends, and never reset, so it wakes
//! every thread that waits and any later wait returns at once (callers re-check the state).
//!
//! Only on Unix; elsewhere these threads wait on the condition variable and the I/O thread does
//! the reading and writing.

#[cfg(unix)]
mod imp {
    use std::os::unix::io::{AsRawFd, RawFd};
    use std::sync::OnceLock;
    use std::time::Instant;

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

    /// The per-connection wake descriptor.
    #[derive(Default)]
    pub struct Waker {
        fd: OnceLock<Option<WakeFd>>,
    }

    impl Waker {
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
        /// `deadline` passes. Returns `false` without waiting if there is no wake descriptor.
        pub fn wait(&self, fd: RawFd, write: bool, deadline: Option<Instant>) -> bool {
            let Some(w) = self.get() else {
                return false;
            };
            let timeout = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    // Round up: waking before the deadline would only spin.
                    let ms = left.as_nanos().div_ceil(1_000_000);
                    ms.min(i32::MAX as u128) as i32
                }
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
            // SAFETY: `fds` is a valid array of two pollfd structures for the whole call.
            unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
            true
        }
    }

    pub type Fd = RawFd;
    pub const NO_FD: Fd = -1;

    pub fn fd_of(tcp: &mio::net::TcpStream) -> Fd {
        tcp.as_raw_fd()
    }
}

#[cfg(not(unix))]
mod imp {
    use std::time::Instant;

    /// No direct waiting on this platform: callers use the condition variable.
    #[derive(Default)]
    pub struct Waker;

    impl Waker {
        pub fn available(&self) -> bool {
            false
        }

        pub fn wake(&self) {}

        pub fn wait(&self, _fd: Fd, _write: bool, _deadline: Option<Instant>) -> bool {
            false
        }
    }

    pub type Fd = i32;
    pub const NO_FD: Fd = -1;

    pub fn fd_of(_tcp: &mio::net::TcpStream) -> Fd {
        NO_FD
    }
}

pub use imp::{fd_of, Waker, NO_FD};
