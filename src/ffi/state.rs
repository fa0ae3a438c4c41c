//! Connection states: the `WSB_STATE_*` constants and their conversion from [`State`].

use crate::client::State;

/// Connection state: resolving, connecting TCP, the proxy's CONNECT, the TLS handshake, or
/// waiting for the HTTP upgrade.
pub const WSB_STATE_CONNECTING: u32 = 0;
/// Connection state: open.
pub const WSB_STATE_OPEN: u32 = 1;
/// Connection state: wsb_close is performing the close handshake.
pub const WSB_STATE_CLOSING: u32 = 2;
/// Connection state: closed by either side, failed, or lost (with the `reconnect` option: not
/// retried, or given up). wsb_recv reports why, once.
pub const WSB_STATE_CLOSED: u32 = 3;
/// Connection state, with the `reconnect` option of wsb_connect only: the link was lost (or an
/// attempt failed) and wsbridge waits out the backoff or is connecting again. wsb_send queues
/// meanwhile; wsb_recv returns WSB_RECONNECTED once the new connection is open.
pub const WSB_STATE_RECONNECTING: u32 = 4;

/// The constant of a connection state.
pub(crate) fn state_code(state: State) -> u32 {
    match state {
        State::Connecting => WSB_STATE_CONNECTING,
        State::Open => WSB_STATE_OPEN,
        State::Closing => WSB_STATE_CLOSING,
        State::Closed => WSB_STATE_CLOSED,
        State::Reconnecting => WSB_STATE_RECONNECTING,
    }
}
