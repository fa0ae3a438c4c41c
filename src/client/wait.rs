//! Waiting for the socket on the caller's own thread.
//!
//! A `recv` that has to wait polls the socket itself instead of sleeping on a condition variable
//! until the I/O thread has read the message and handed it over: the thread the kernel wakes is
//! the one that wants the data, so a round trip costs no extra thread hop. A small wake pipe per
//! connection (created on first use) lets `close` on another thread interrupt that wait.
//!
//! Only on Unix; elsewhere `recv` waits on the condition variable and the I/O thread reads.

#[cfg(unix)]
mod imp {
    use std::io::{Read, Write};
    use std::os::unix::io::{AsRawFd, RawFd};
    use std::os::unix::net::UnixStream;
    use std::sync::OnceLock;
    use std::time::Instant;

    /// The per-connection wake pipe.
    #[derive(Default)]
    pub struct Waker {
        pair: OnceLock<Option<(UnixStream, UnixStream)>>,
    }

    impl Waker {
        fn pair(&self) -> Option<&(UnixStream, UnixStream)> {
            self.pair
                .get_or_init(|| {
                    let (r, w) = UnixStream::pair().ok()?;
                    r.set_nonblocking(true).ok()?;
                    w.set_nonblocking(true).ok()?;
                    Some((r, w))
                })
                .as_ref()
        }

        /// Creates the wake pipe if needed; `false` if it cannot be created (no direct wait).
        pub fn available(&self) -> bool {
            self.pair().is_some()
        }

        /// Interrupts a `wait` in progress (or the next one, which then returns at once).
        pub fn wake(&self) {
            if let Some(Some((_, w))) = self.pair.get() {
                let _ = (&*w).write(&[1]);
            }
        }

        /// Waits until `fd` is readable, `wake` is called, or `deadline` passes.
        /// Returns `false` without waiting if the wake pipe cannot be created.
        pub fn wait(&self, fd: RawFd, deadline: Option<Instant>) -> bool {
            let Some((r, _)) = self.pair() else {
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
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: r.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a valid array of two pollfd structures for the whole call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
            if n > 0 && fds[1].revents != 0 {
                let mut sink = [0u8; 64];
                while matches!((&*r).read(&mut sink), Ok(n) if n > 0) {}
            }
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

    /// No direct waiting on this platform: `recv` always uses the condition variable.
    #[derive(Default)]
    pub struct Waker;

    impl Waker {
        pub fn available(&self) -> bool {
            false
        }

        pub fn wake(&self) {}

        pub fn wait(&self, _fd: Fd, _deadline: Option<Instant>) -> bool {
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
