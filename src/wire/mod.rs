//! Wire layer: req/resp `ssz_snappy` framing, gossip snappy and message-ids, protocol ids,
//! result codes and limits. Bytes in, checked SSZ payloads out; every bound is enforced before
//! the bytes it guards are read.

pub mod gossip;
pub mod protocol;
pub mod reqresp;
pub mod snappy;
pub mod varint;

pub use gossip::{message_id, GossipKind, GossipTopic};
pub use protocol::{Protocol, UnknownProtocol, MAX_PAYLOAD_SIZE};
pub use reqresp::{
    encode_request, encode_response_chunk, read_request, ResponseChunk, ResponseReader, ResultCode,
};

use crate::primitives::ForkDigest;
use crate::types::TypeError;

/// Why bytes from the wire were rejected. Offsets count from the start of the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The stream ended inside a message.
    #[error("unexpected end of stream at byte {offset} (reading {what})")]
    UnexpectedEof {
        /// Where.
        offset: u64,
        /// What was being read.
        what: &'static str,
    },
    /// The transport failed.
    #[error("read failed at byte {offset}: {detail}")]
    Io {
        /// Where.
        offset: u64,
        /// The transport's error.
        detail: String,
    },
    /// A malformed length prefix.
    #[error("invalid length prefix at byte {offset}: {detail}")]
    Varint {
        /// Where.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// A declared length outside the type's SSZ bounds (or `MAX_PAYLOAD_SIZE`).
    #[error("length {length} at byte {offset} is outside the allowed {min}..={max}")]
    LengthOutOfBounds {
        /// Where.
        offset: u64,
        /// The declared length.
        length: u64,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// More framed bytes than `max_compressed_len` allows for the declared payload.
    #[error("snappy frames at byte {offset} exceed {limit} bytes, the most a {payload}-byte payload may take")]
    CompressedTooLong {
        /// Where the frame that crossed the limit starts.
        offset: u64,
        /// `max_compressed_len(payload)`.
        limit: u64,
        /// The declared payload length.
        payload: usize,
    },
    /// The frames decompress to more than the declared length.
    #[error("snappy frame at byte {offset} decompresses past the declared {expected} bytes")]
    PayloadTooLong {
        /// Where.
        offset: u64,
        /// The declared length.
        expected: usize,
    },
    /// Malformed snappy data.
    #[error("invalid snappy data at byte {offset}: {detail}")]
    Snappy {
        /// Where.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// Context bytes that name no light-client fork of this network.
    #[error("context bytes {digest} at byte {offset} name no light-client fork of this network")]
    UnknownContext {
        /// Where.
        offset: u64,
        /// The digest received.
        digest: ForkDigest,
    },
    /// Bytes where the stream should have ended.
    #[error("unexpected data at byte {offset}: {detail}")]
    TrailingBytes {
        /// Where.
        offset: u64,
        /// What was expected instead.
        detail: String,
    },
    /// The payload is not a valid value of its type.
    #[error("at byte {offset}: {source}")]
    Type {
        /// Where the chunk starts.
        offset: u64,
        /// The type error.
        source: TypeError,
    },
    /// A malformed gossip topic.
    #[error("invalid gossip topic {topic:?}: {detail}")]
    Topic {
        /// The topic.
        topic: String,
        /// What is wrong.
        detail: String,
    },
}
