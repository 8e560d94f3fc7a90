use super::*;
use proptest::prelude::*;
use rstest::rstest;

/// How a test frame writes its payload length.
#[derive(Debug, Clone, Copy)]
enum Len {
    /// The shortest form (7 bits, 16 bits, 64 bits).
    Min,
    /// Always the 64-bit form.
    Long,
    /// A 64-bit length field with this raw value (for overflow tests; the payload is not written).
    Raw(u64),
}

/// An independent, deliberately plain server-frame writer (byte by byte from the RFC's figure).
fn raw_frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>, len: Len) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let n = payload.len();
    match len {
        Len::Min if n <= 125 => out.push(mask_bit | n as u8),
        Len::Min if n <= 65535 => {
            out.push(mask_bit | 0x7E);
            out.push((n >> 8) as u8);
            out.push(n as u8);
        }
        Len::Min | Len::Long => {
            out.push(mask_bit | 0x7F);
            for shift in (0..8).rev() {
                out.push(((n as u64) >> (shift * 8)) as u8);
            }
        }
        Len::Raw(v) => {
            out.push(mask_bit | 0x7F);
            out.extend(v.to_be_bytes());
            return out;
        }
    }
    if let Some(m) = mask {
        out.extend(m);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
    } else {
        out.extend(payload);
    }
    out
}

fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(fin, 0, opcode, payload, None, Len::Min)
}

fn text(payload: &[u8]) -> OwnedFrame {
    OwnedFrame::Message {
        binary: false,
        payload: payload.to_vec(),
    }
}

fn binary(payload: &[u8]) -> OwnedFrame {
    OwnedFrame::Message {
        binary: true,
        payload: payload.to_vec(),
    }
}

fn decode_all(bytes: &[u8]) -> Result<Vec<OwnedFrame>, WsError> {
    WsDecoder::default().feed(bytes)
}

/// Feeds `bytes` in the given chunk sizes (cycled); returns what came out and the first error.
fn decode_chunked(dec: &mut WsDecoder, bytes: &[u8], sizes: &[usize]) -> (Vec<OwnedFrame>, Option<WsError>) {
    let mut out = Vec::new();
    let mut at = 0;
    let mut k = 0;
    while at < bytes.len() {
        let n = sizes[k % sizes.len()].max(1).min(bytes.len() - at);
        k += 1;
        if let Err(e) = dec.feed_with(&bytes[at..at + n], |f| out.push(f.into())) {
            return (out, Some(e));
        }
        at += n;
    }
    (out, None)
}

// ---------------------------------------------------------------------------------------------------- good input
#[test]
fn text_and_binary_messages_in_one_read() {
    let mut b = frame(true, OP_TEXT, b"hello");
    b.extend(frame(true, OP_BINARY, &[0, 1, 2, 255]));
    b.extend(frame(true, OP_TEXT, b""));
    assert_eq!(
        decode_all(&b).unwrap(),
        vec![text(b"hello"), binary(&[0, 1, 2, 255]), text(b"")]
    );
}

#[rstest]
#[case::seven_bit_max(125)]
#[case::sixteen_bit_min(126)]
#[case::sixteen_bit_max(65535)]
#[case::sixty_four_bit_min(65536)]
#[case::large(300_000)]
fn length_forms(#[case] n: usize) {
    let payload: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
    let b = frame(true, OP_TEXT, &payload);
    let header = b.len() - n;
    assert_eq!(
        header,
        if n <= 125 {
            2
        } else if n <= 65535 {
            4
        } else {
            10
        }
    );
    assert_eq!(decode_all(&b).unwrap(), vec![text(&payload)]);
}

#[test]
fn non_minimal_length_is_accepted() {
    let b = raw_frame(true, 0, OP_TEXT, b"abc", None, Len::Long);
    assert_eq!(decode_all(&b).unwrap(), vec![text(b"abc")]);
}

#[test]
fn fragments_are_joined_with_controls_between_them() {
    let mut b = frame(false, OP_BINARY, b"ab");
    b.extend(frame(true, OP_PING, b"p1"));
    b.extend(frame(false, OP_CONTINUATION, b""));
    b.extend(frame(true, OP_PONG, b""));
    b.extend(frame(true, OP_CONTINUATION, b"cd"));
    b.extend(frame(true, OP_TEXT, b"next"));
    assert_eq!(
        decode_all(&b).unwrap(),
        vec![
            OwnedFrame::Ping(b"p1".to_vec()),
            OwnedFrame::Pong(vec![]),
            binary(b"abcd"),
            text(b"next")
        ]
    );
}

#[test]
fn control_payload_of_125_bytes_is_accepted() {
    let p = [7u8; 125];
    assert_eq!(
        decode_all(&frame(true, OP_PING, &p)).unwrap(),
        vec![OwnedFrame::Ping(p.to_vec())]
    );
}

#[test]
fn close_frames_with_and_without_code() {
    let mut p = 1001u16.to_be_bytes().to_vec();
    p.extend(b"going away");
    assert_eq!(
        decode_all(&frame(true, OP_CLOSE, &p)).unwrap(),
        vec![OwnedFrame::Close {
            code: Some(1001),
            reason: b"going away".to_vec()
        }]
    );
    assert_eq!(
        decode_all(&frame(true, OP_CLOSE, b"")).unwrap(),
        vec![OwnedFrame::Close {
            code: None,
            reason: vec![]
        }]
    );
}

#[test]
fn input_after_a_close_frame_is_ignored() {
    let mut dec = WsDecoder::default();
    let mut b = frame(true, OP_TEXT, b"a");
    b.extend(frame(true, OP_CLOSE, &1000u16.to_be_bytes()));
    b.extend(frame(true, OP_TEXT, b"after"));
    b.extend([0xFF, 0xFF]); // even garbage
    let got = dec.feed(&b).unwrap();
    assert_eq!(got.len(), 2);
    assert!(dec.is_closed());
    assert_eq!(dec.feed(&frame(true, OP_TEXT, b"later")).unwrap(), vec![]);
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn text_is_not_utf8_validated() {
    assert_eq!(
        decode_all(&frame(true, OP_TEXT, &[0xC3, 0x28])).unwrap(),
        vec![text(&[0xC3, 0x28])]
    );
}

#[test]
fn one_byte_reads_give_the_same_frames() {
    let mut b = frame(true, OP_TEXT, &[b'x'; 200]);
    b.extend(frame(false, OP_TEXT, b"12"));
    b.extend(frame(true, OP_PING, b"hi"));
    b.extend(frame(true, OP_CONTINUATION, &vec![b'y'; 70_000]));
    let want = decode_all(&b).unwrap();
    let mut dec = WsDecoder::default();
    let (got, err) = decode_chunked(&mut dec, &b, &[1]);
    assert_eq!(err, None);
    assert_eq!(got, want);
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn a_partial_frame_is_held_until_complete() {
    let b = frame(true, OP_TEXT, &[b'z'; 1000]);
    let mut dec = WsDecoder::default();
    assert_eq!(dec.feed(&b[..3]).unwrap(), vec![]);
    assert_eq!(dec.buffered(), 3);
    assert_eq!(dec.feed(&b[3..500]).unwrap(), vec![]);
    assert_eq!(dec.buffered(), 500);
    let mut rest = b[500..].to_vec();
    rest.extend(frame(true, OP_TEXT, b"tail"));
    rest.extend(&frame(true, OP_TEXT, b"cut")[..2]);
    assert_eq!(dec.feed(&rest).unwrap(), vec![text(&[b'z'; 1000]), text(b"tail")]);
    assert_eq!(dec.buffered(), 2);
}

// ---------------------------------------------------------------------------------------------------- bad input
#[test]
fn masked_server_frame_is_an_error() {
    let b = raw_frame(true, 0, OP_TEXT, b"hi", Some([1, 2, 3, 4]), Len::Min);
    assert_eq!(decode_all(&b), Err(WsError::MaskedFrame));
}

#[rstest]
#[case::rsv1(4, 4)]
#[case::rsv2(2, 2)]
#[case::rsv3(1, 1)]
#[case::all(7, 7)]
fn reserved_bits_are_an_error(#[case] rsv: u8, #[case] bits: u8) {
    let b = raw_frame(true, rsv, OP_TEXT, b"hi", None, Len::Min);
    assert_eq!(decode_all(&b), Err(WsError::ReservedBits { bits }));
}

#[rstest]
fn unknown_opcodes_are_an_error(#[values(3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)] opcode: u8) {
    assert_eq!(
        decode_all(&frame(true, opcode, b"")),
        Err(WsError::UnknownOpcode { opcode })
    );
}

#[rstest]
fn fragmented_control_is_an_error(#[values(OP_CLOSE, OP_PING, OP_PONG)] opcode: u8) {
    assert_eq!(
        decode_all(&frame(false, opcode, b"")),
        Err(WsError::FragmentedControl { opcode })
    );
}

#[rstest]
fn control_over_125_bytes_is_an_error(#[values(OP_CLOSE, OP_PING, OP_PONG)] opcode: u8) {
    assert_eq!(
        decode_all(&frame(true, opcode, &[0u8; 126])),
        Err(WsError::ControlTooLong { opcode, len: 126 })
    );
}

#[test]
fn continuation_without_a_message_is_an_error() {
    assert_eq!(
        decode_all(&frame(true, OP_CONTINUATION, b"x")),
        Err(WsError::UnexpectedContinuation)
    );
    // ...also right after a message ended.
    let mut b = frame(false, OP_TEXT, b"a");
    b.extend(frame(true, OP_CONTINUATION, b"b"));
    b.extend(frame(false, OP_CONTINUATION, b"c"));
    let mut dec = WsDecoder::default();
    let (got, err) = decode_chunked(&mut dec, &b, &[usize::MAX]);
    assert_eq!(got, vec![text(b"ab")]);
    assert_eq!(err, Some(WsError::UnexpectedContinuation));
}

#[rstest]
fn new_data_frame_inside_a_message_is_an_error(#[values(OP_TEXT, OP_BINARY)] opcode: u8) {
    let mut b = frame(false, OP_TEXT, b"a");
    b.extend(frame(true, opcode, b"b"));
    assert_eq!(decode_all(&b), Err(WsError::MessageInProgress { opcode }));
}

#[test]
fn sixty_four_bit_length_with_top_bit_is_an_error() {
    let b = raw_frame(true, 0, OP_TEXT, b"", None, Len::Raw(1 << 63));
    assert_eq!(decode_all(&b), Err(WsError::LengthOverflow));
    let b = raw_frame(true, 0, OP_TEXT, b"", None, Len::Raw(u64::MAX));
    assert_eq!(decode_all(&b), Err(WsError::LengthOverflow));
}

#[test]
fn message_over_the_limit_is_an_error_before_its_payload_arrives() {
    let mut dec = WsDecoder::new(1000);
    assert_eq!(dec.feed(&frame(true, OP_TEXT, &[0; 1000])).unwrap().len(), 1);
    let big = frame(true, OP_TEXT, &[0; 1001]);
    assert_eq!(
        dec.feed(&big[..4]),
        Err(WsError::MessageTooBig { size: 1001, max: 1000 })
    );
    // A huge announced length fails at once too (nothing waits for it).
    let mut dec = WsDecoder::default();
    let b = raw_frame(true, 0, OP_BINARY, b"", None, Len::Raw(1 << 40));
    assert_eq!(
        dec.feed(&b),
        Err(WsError::MessageTooBig {
            size: 1 << 40,
            max: DEFAULT_MAX_MESSAGE_SIZE
        })
    );
}

#[test]
fn fragments_over_the_limit_are_an_error() {
    let mut b = frame(false, OP_TEXT, &[1; 600]);
    b.extend(frame(false, OP_CONTINUATION, &[2; 400]));
    b.extend(frame(true, OP_CONTINUATION, &[3; 1]));
    assert_eq!(
        WsDecoder::new(1000).feed(&b),
        Err(WsError::MessageTooBig { size: 1001, max: 1000 })
    );
    b.truncate(b.len() - 3);
    b.extend(frame(true, OP_CONTINUATION, b""));
    assert_eq!(WsDecoder::new(1000).feed(&b).unwrap().len(), 1);
}

#[test]
fn close_payload_of_one_byte_is_an_error() {
    assert_eq!(decode_all(&frame(true, OP_CLOSE, &[3])), Err(WsError::CloseTooShort));
}

#[rstest]
fn invalid_close_codes_are_an_error(#[values(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535)] code: u16) {
    assert_eq!(
        decode_all(&frame(true, OP_CLOSE, &code.to_be_bytes())),
        Err(WsError::InvalidCloseCode { code })
    );
}

#[rstest]
fn valid_close_codes_are_accepted(#[values(1000, 1002, 1003, 1007, 1011, 1014, 3000, 4999)] code: u16) {
    assert_eq!(
        decode_all(&frame(true, OP_CLOSE, &code.to_be_bytes())).unwrap(),
        vec![OwnedFrame::Close {
            code: Some(code),
            reason: vec![]
        }]
    );
}

#[test]
fn after_an_error_every_feed_fails() {
    let mut dec = WsDecoder::default();
    let mut b = frame(true, OP_TEXT, b"ok");
    b.extend(raw_frame(true, 0, OP_TEXT, b"x", Some([9, 9, 9, 9]), Len::Min));
    let mut got = Vec::new();
    assert_eq!(
        dec.feed_with(&b, |f| got.push(OwnedFrame::from(f))),
        Err(WsError::MaskedFrame)
    );
    assert_eq!(got, vec![text(b"ok")]); // what came before the violation was handed out
    assert_eq!(dec.feed(&frame(true, OP_TEXT, b"fine")), Err(WsError::MaskedFrame));
    assert_eq!(dec.feed(b""), Err(WsError::MaskedFrame));
}

#[test]
fn errors_have_a_clear_message_kind_and_close_code() {
    let e = WsError::ControlTooLong { opcode: 9, len: 200 };
    assert_eq!(
        e.to_string(),
        "control frame (opcode 0x9) with a 200-byte payload (at most 125)"
    );
    assert_eq!(e.kind(), "control_too_long");
    assert_eq!(e.close_code(), 1002);
    assert_eq!(WsError::MessageTooBig { size: 2, max: 1 }.close_code(), 1009);
}

// ---------------------------------------------------------------------------------------------------- encoder
/// An independent reading of a client frame: (fin, opcode, mask, unmasked payload, header length).
fn read_client_frame(b: &[u8]) -> (bool, u8, [u8; 4], Vec<u8>, usize) {
    assert_eq!(b[0] & 0x70, 0);
    assert_ne!(b[1] & 0x80, 0, "client frames must be masked");
    let (n, mut at) = match b[1] & 0x7F {
        126 => (usize::from(b[2]) << 8 | usize::from(b[3]), 4),
        127 => (b[2..10].iter().fold(0usize, |acc, &x| acc << 8 | usize::from(x)), 10),
        n => (usize::from(n), 2),
    };
    let mask = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    at += 4;
    assert_eq!(b.len(), at + n);
    let payload = b[at..].iter().enumerate().map(|(i, x)| x ^ mask[i % 4]).collect();
    (b[0] & 0x80 != 0, b[0] & 0x0F, mask, payload, at)
}

#[rstest]
#[case::empty(0, 6)]
#[case::short(5, 6)]
#[case::seven_bit_max(125, 6)]
#[case::sixteen_bit(126, 8)]
#[case::sixteen_bit_max(65535, 8)]
#[case::sixty_four_bit(65536, 14)]
fn client_frames_are_masked_with_the_minimal_length(#[case] n: usize, #[case] header: usize) {
    let payload: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    let mask = [0xA1, 0x02, 0xF3, 0x44];
    let b = encode_client_frame(OP_TEXT, &payload, mask);
    let (fin, opcode, m, got, hl) = read_client_frame(&b);
    assert!(fin);
    assert_eq!((opcode, m, hl), (OP_TEXT, mask, header));
    assert_eq!(got, payload);
}

#[test]
fn rfc_example_of_a_masked_frame() {
    // RFC 6455 §5.7: a single-frame masked text message "Hello".
    let b = encode_client_frame(OP_TEXT, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
    assert_eq!(b, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
}

#[test]
fn client_frame_checks() {
    assert_eq!(check_client_frame(OP_TEXT, 1 << 20), Ok(()));
    assert_eq!(check_client_frame(OP_PING, 125), Ok(()));
    assert_eq!(
        check_client_frame(OP_PONG, 126),
        Err(WsError::ControlTooLong {
            opcode: OP_PONG,
            len: 126
        })
    );
    assert_eq!(check_client_frame(3, 0), Err(WsError::UnknownOpcode { opcode: 3 }));
}

// ---------------------------------------------------------------------------------------------------- properties
/// One item of a generated server stream.
#[derive(Debug, Clone)]
enum Item {
    /// A data message of `size` bytes (content from `seed`), cut into `parts` fragments at points from `seed`,
    /// with a control frame after fragment `i` for each `(i, control)` in `between`.
    Message {
        binary: bool,
        size: usize,
        parts: usize,
        seed: u64,
        between: Vec<(usize, Ctl)>,
    },
    Control(Ctl),
}

#[derive(Debug, Clone)]
enum Ctl {
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn lcg(s: &mut u64) -> u64 {
    *s = s
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *s >> 33
}

fn ctl_strategy() -> impl Strategy<Value = Ctl> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Ctl::Ping),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Ctl::Pong),
    ]
}

fn size_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 0usize..300,
        1 => Just(0usize),
        1 => Just(125usize),
        1 => Just(126usize),
        1 => Just(65535usize),
        1 => Just(65536usize),
        1 => 65537usize..140_000,
    ]
}

fn item_strategy() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (any::<bool>(), size_strategy(), 1usize..5, any::<u64>(), prop::collection::vec((0usize..4, ctl_strategy()), 0..3))
            .prop_map(|(binary, size, parts, seed, between)| Item::Message { binary, size, parts, seed, between }),
        1 => ctl_strategy().prop_map(Item::Control),
    ]
}

fn ctl_frame(c: &Ctl) -> (Vec<u8>, OwnedFrame) {
    match c {
        Ctl::Ping(p) => (frame(true, OP_PING, p), OwnedFrame::Ping(p.clone())),
        Ctl::Pong(p) => (frame(true, OP_PONG, p), OwnedFrame::Pong(p.clone())),
    }
}

/// Encodes the items as a server would, and lists what a correct decoder must hand out, in order.
fn encode_stream(items: &[Item]) -> (Vec<u8>, Vec<OwnedFrame>) {
    let mut bytes = Vec::new();
    let mut want = Vec::new();
    for item in items {
        match item {
            Item::Control(c) => {
                let (b, f) = ctl_frame(c);
                bytes.extend(b);
                want.push(f);
            }
            Item::Message {
                binary,
                size,
                parts,
                seed,
                between,
            } => {
                let mut s = *seed;
                let payload: Vec<u8> = (0..*size).map(|_| lcg(&mut s) as u8).collect();
                let mut cuts: Vec<usize> = (1..*parts).map(|_| lcg(&mut s) as usize % (size + 1)).collect();
                cuts.sort_unstable();
                cuts.insert(0, 0);
                cuts.push(*size);
                let n = cuts.len() - 1;
                for i in 0..n {
                    let opcode = if i > 0 {
                        OP_CONTINUATION
                    } else if *binary {
                        OP_BINARY
                    } else {
                        OP_TEXT
                    };
                    bytes.extend(frame(i == n - 1, opcode, &payload[cuts[i]..cuts[i + 1]]));
                    if i < n - 1 {
                        for (at, c) in between {
                            if *at == i {
                                let (b, f) = ctl_frame(c);
                                bytes.extend(b);
                                want.push(f);
                            }
                        }
                    }
                }
                want.push(OwnedFrame::Message {
                    binary: *binary,
                    payload,
                });
            }
        }
    }
    (bytes, want)
}

/// Read sizes: single bytes, small, or large, in a random mix.
fn chunks_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![Just(1usize), 1usize..20, 1usize..5000, 1usize..200_000],
        1..16,
    )
}

/// A violation to splice into a valid stream, and the error it must give.
#[derive(Debug, Clone)]
enum Bad {
    Masked,
    Rsv(u8),
    Opcode(u8),
    FragmentedPing,
    LongPong,
    StrayContinuation,
    Overflow,
    TooBig,
    CloseOneByte,
    CloseCode(u16),
}

fn bad_strategy() -> impl Strategy<Value = Bad> {
    prop_oneof![
        Just(Bad::Masked),
        (1u8..8).prop_map(Bad::Rsv),
        prop_oneof![3u8..8, 0xBu8..=0xF].prop_map(Bad::Opcode),
        Just(Bad::FragmentedPing),
        Just(Bad::LongPong),
        Just(Bad::StrayContinuation),
        Just(Bad::Overflow),
        Just(Bad::TooBig),
        Just(Bad::CloseOneByte),
        prop_oneof![Just(1005u16), Just(1006u16), 0u16..1000, 5000u16..=u16::MAX].prop_map(Bad::CloseCode),
    ]
}

const PROP_MAX: usize = 200_000;

fn bad_frame(bad: &Bad) -> (Vec<u8>, WsError) {
    match bad {
        Bad::Masked => (
            raw_frame(true, 0, OP_TEXT, b"m", Some([1, 2, 3, 4]), Len::Min),
            WsError::MaskedFrame,
        ),
        Bad::Rsv(r) => (
            raw_frame(true, *r, OP_BINARY, b"r", None, Len::Min),
            WsError::ReservedBits { bits: *r },
        ),
        Bad::Opcode(o) => (frame(true, *o, b""), WsError::UnknownOpcode { opcode: *o }),
        Bad::FragmentedPing => (
            frame(false, OP_PING, b""),
            WsError::FragmentedControl { opcode: OP_PING },
        ),
        Bad::LongPong => (
            frame(true, OP_PONG, &[0; 200]),
            WsError::ControlTooLong {
                opcode: OP_PONG,
                len: 200,
            },
        ),
        Bad::StrayContinuation => (frame(true, OP_CONTINUATION, b"c"), WsError::UnexpectedContinuation),
        Bad::Overflow => (
            raw_frame(true, 0, OP_TEXT, b"", None, Len::Raw(u64::MAX)),
            WsError::LengthOverflow,
        ),
        Bad::TooBig => (
            frame(true, OP_TEXT, &vec![b'b'; PROP_MAX + 1]),
            WsError::MessageTooBig {
                size: PROP_MAX as u64 + 1,
                max: PROP_MAX,
            },
        ),
        Bad::CloseOneByte => (frame(true, OP_CLOSE, &[1]), WsError::CloseTooShort),
        Bad::CloseCode(c) => (
            frame(true, OP_CLOSE, &c.to_be_bytes()),
            WsError::InvalidCloseCode { code: *c },
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn chunked_stream_gives_every_message_and_control_in_order(
        items in prop::collection::vec(item_strategy(), 0..10),
        chunks in chunks_strategy(),
        close in any::<bool>(),
    ) {
        let (mut bytes, mut want) = encode_stream(&items);
        if close {
            bytes.extend(frame(true, OP_CLOSE, &[0x03, 0xE8, b'b', b'y', b'e']));
            want.push(OwnedFrame::Close { code: Some(1000), reason: b"bye".to_vec() });
            bytes.extend(frame(true, OP_TEXT, b"ignored after close"));
        }
        let mut dec = WsDecoder::new(PROP_MAX);
        let (got, err) = decode_chunked(&mut dec, &bytes, &chunks);
        prop_assert_eq!(err, None);
        prop_assert_eq!(got.len(), want.len());
        prop_assert_eq!(got, want);
        prop_assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn chunked_stream_with_a_violation_gives_what_came_before_and_the_error(
        items in prop::collection::vec(item_strategy(), 0..6),
        bad in bad_strategy(),
        chunks in chunks_strategy(),
        garbage in prop::collection::vec(any::<u8>(), 0..50),
    ) {
        let (mut bytes, want) = encode_stream(&items);
        let (b, err) = bad_frame(&bad);
        bytes.extend(b);
        bytes.extend(garbage);
        let mut dec = WsDecoder::new(PROP_MAX);
        let (got, got_err) = decode_chunked(&mut dec, &bytes, &chunks);
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_err, Some(err.clone()));
        prop_assert_eq!(dec.feed(b"more"), Err(err));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), chunks in chunks_strategy()) {
        let mut dec = WsDecoder::new(1000);
        let _ = decode_chunked(&mut dec, &bytes, &chunks);
    }

    #[test]
    fn mask_round_trips(payload in prop::collection::vec(any::<u8>(), 0..100), mask: [u8; 4]) {
        let mut b = payload.clone();
        apply_mask(&mut b, mask);
        let naive: Vec<u8> = payload.iter().enumerate().map(|(i, x)| x ^ mask[i % 4]).collect();
        prop_assert_eq!(&b, &naive);
        apply_mask(&mut b, mask);
        prop_assert_eq!(b, payload);
    }
}
