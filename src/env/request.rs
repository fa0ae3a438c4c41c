//! A request from the trainer arrived: check it against the spec (`decode.rs`), acknowledge
//! engine settings, and turn a reset or a step into the [`Event`] the game answers; a request
//! that breaks the protocol ends the env.

use super::decode::{self, Bad, Request};
use super::error::{Error, ErrorKind, Result};
use super::event::{Event, EventKind};
use super::spec::PROTOCOL_VERSION;
use super::state::{cut, lock, Link, Stage};
use super::Env;
use crate::client::{Connection, Kind};
use std::time::Duration;

impl Env {
    /// A request arrived: check it and hand it to the game.
    pub(super) fn request(&mut self, c: &Connection, n: usize, kind: Kind) -> Result<Event> {
        let parsed = decode::parse_request(
            &self.inbuf[..n],
            kind,
            &self.spec,
            &self.ready,
            &mut self.seeds,
            &mut self.reset_options,
            &mut self.reset,
            &mut self.settings,
        );
        if let Ok(Request::Settings) = parsed {
            // Acknowledged at once (the trainer waits for one answer per request); the game
            // reads them at its leisure. A send that fails is reported by the next receive.
            self.served = true;
            let _ = c.send(br#"{"type":"settings"}"#, Kind::Text);
            return Ok(self.event(EventKind::Settings));
        }
        let (kind, resets) = match parsed {
            Ok(Request::Settings) => unreachable!("handled above"),
            Ok(Request::Reset) => {
                self.same_step = false;
                self.reset.fill(true);
                (EventKind::Reset, self.spec.agents)
            }
            Ok(Request::Step {
                action_at,
                resets,
                same_step,
            }) => {
                self.action_at = action_at;
                self.same_step = same_step;
                (EventKind::Step, resets)
            }
            Err(bad) => {
                let err = match bad {
                    Bad::Version(v) => Error::new(
                        ErrorKind::VersionMismatch,
                        format!("the trainer speaks protocol version {v}; this game speaks version {PROTOCOL_VERSION}"),
                    ),
                    Bad::Protocol(m) => Error::new(
                        ErrorKind::TrainerProtocol,
                        format!("the trainer broke the env protocol: {m}"),
                    ),
                };
                let _ = c.close(4400, cut(err.message()), Some(Duration::from_millis(1000)));
                *lock(&self.shared.current) = None;
                self.link = Link::Ended(err.clone());
                self.stage = Stage::Idle;
                return Err(err);
            }
        };
        // The trainer accepted this connection: the next drop starts the backoff afresh.
        self.served = true;
        self.backoff.reset();
        self.attempts = 0;
        self.resets = resets;
        self.frames = 0;
        self.stage = Stage::Answer(kind);
        let mut event = self.event(kind);
        event.resets = resets;
        Ok(event)
    }
}
