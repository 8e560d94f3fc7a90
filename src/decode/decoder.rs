//! The one entry point for WebSocket frames: [`Decoder::decode`].

use super::json::Levels;
use super::template::{self, Template};
use super::{dispatch, DecodeError, DiffHead, Event, Level};

/// Decodes frames with reusable buffers: a diff's levels and a frame's events are written into vectors kept from
/// one frame to the next, so the hot path allocates nothing.
#[derive(Debug, Default)]
pub struct Decoder {
    bids: Vec<Level>,
    asks: Vec<Level>,
    events: Vec<Event>,
    /// Whether the last level list began with two short numbers: how the next one is read first (same result).
    short_levels: bool,
}

/// What one frame decoded to, borrowed from the frame and the decoder until the next [`Decoder::decode`].
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A `depthUpdate` diff: its head borrowed from the frame, its levels in the decoder's buffers.
    Diff {
        head: DiffHead<'a>,
        bids: &'a [Level],
        asks: &'a [Level],
    },
    /// A frame of one event (most aggTrade and bookTicker frames).
    Event(Event),
    /// The events of any other frame, in order (several for an `@arr` stream, none for an empty array).
    Events(std::vec::Drain<'a, Event>),
}

impl Decoder {
    /// Decodes one frame. A malformed frame is an error and yields nothing.
    ///
    /// Frames in Binance's exact layout of a diff, an aggTrade or a bookTicker are matched as templates (see
    /// `template/`); every other frame, and any the templates decline, is read key by key (`dispatch.rs`), with the
    /// same result for what both accept.
    #[inline]
    pub fn decode<'a>(&'a mut self, frame: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
        self.bids.clear();
        self.asks.clear();
        match template::frame_parts(frame, &mut self.bids, &mut self.asks, &mut self.short_levels) {
            Template::Diff(head) => {
                return Ok(Decoded::Diff {
                    head,
                    bids: &self.bids,
                    asks: &self.asks,
                })
            }
            Template::Event(event) => return Ok(Decoded::Event(event)),
            Template::Declined => {}
        }
        self.events.clear();
        if let Err(e) = dispatch::decode_frame(frame, &mut self.events) {
            self.events.clear();
            return Err(e);
        }
        Ok(Decoded::Events(self.events.drain(..)))
    }
}

impl Decoded<'_> {
    /// The frame's events, owned (a diff becomes one [`Event::Depth`]).
    pub fn into_events(self) -> Vec<Event> {
        match self {
            Decoded::Diff { head, bids, asks } => vec![Event::Depth(Box::new(
                head.into_update(Levels::from_slice(bids), Levels::from_slice(asks)),
            ))],
            Decoded::Event(event) => vec![event],
            Decoded::Events(events) => events.collect(),
        }
    }
}
