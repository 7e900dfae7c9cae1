//! Req/resp `ssz_snappy` framing.
//!
//! Request: `varint(len) ‖ snappy frames`, then the requester closes its side.
//! Response: `(result ‖ [context] ‖ varint(len) ‖ snappy frames)*`, where the 4 context bytes
//! (fork digest of the object's slot) come only on success chunks of the light-client protocols.
//! Every length is checked against the SSZ bounds of the type the context bytes select before a
//! byte of payload is read.

use futures::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::protocol::{Protocol, MAX_PAYLOAD_SIZE};
use super::snappy::{encode_frames, read_exact_at, read_frames, STREAM_IDENTIFIER};
use super::varint;
use super::WireError;
use crate::chain::{ChainConfig, DigestPeriod, Fork, Preset};
use crate::primitives::ForkDigest;

/// A response chunk's result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// 0: the payload is the response.
    Success,
    /// 1: the request was malformed.
    InvalidRequest,
    /// 2: the responder failed.
    ServerError,
    /// 3: the responder does not have the data.
    ResourceUnavailable,
    /// Any other code: an error the specs reserve (4–127) or leave to clients (128–255).
    Other(u8),
}

impl ResultCode {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            ResultCode::Success => 0,
            ResultCode::InvalidRequest => 1,
            ResultCode::ServerError => 2,
            ResultCode::ResourceUnavailable => 3,
            ResultCode::Other(byte) => byte,
        }
    }

    /// The code for a byte on the wire.
    pub fn from_byte(byte: u8) -> Self {
        match byte {
            0 => ResultCode::Success,
            1 => ResultCode::InvalidRequest,
            2 => ResultCode::ServerError,
            3 => ResultCode::ResourceUnavailable,
            other => ResultCode::Other(other),
        }
    }
}

/// One decoded response chunk: framing checked, payload still SSZ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseChunk {
    /// The result code.
    pub result: ResultCode,
    /// Context bytes (success chunks of light-client protocols only).
    pub context: Option<ForkDigest>,
    /// The fork the context bytes name.
    pub fork: Option<Fork>,
    /// The uncompressed SSZ payload (an `ErrorMessage` when `result` is not success).
    pub payload: Vec<u8>,
}

impl ResponseChunk {
    /// The error message of an error chunk, as text.
    pub fn error_message(&self) -> Option<String> {
        (self.result != ResultCode::Success)
            .then(|| String::from_utf8_lossy(&self.payload).into_owned())
    }
}

/// Encodes a request body: `varint(len) ‖ frames`. Requests without a body are empty.
pub fn encode_request(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + payload.len() + 32);
    varint::encode(payload.len() as u64, &mut out);
    out.extend_from_slice(&encode_frames(payload));
    out
}

/// Encodes one response chunk.
pub fn encode_response_chunk(
    result: ResultCode,
    context: Option<ForkDigest>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + payload.len() + 32);
    out.push(result.byte());
    if let (ResultCode::Success, Some(context)) = (result, context) {
        out.extend_from_slice(&context.0);
    }
    varint::encode(payload.len() as u64, &mut out);
    out.extend_from_slice(&encode_frames(payload));
    out
}

/// Reads a whole request body of `protocol` and checks that the stream ends after it.
pub async fn read_request<R: AsyncRead + Unpin>(
    reader: R,
    protocol: Protocol,
) -> Result<Vec<u8>, WireError> {
    let mut reader = BufReader::new(reader);
    let mut offset = 0u64;
    let payload = match protocol.request_bounds() {
        None => Vec::new(),
        Some(bounds) => read_payload(&mut reader, &mut offset, bounds).await?,
    };
    expect_eof(&mut reader, offset).await?;
    Ok(payload)
}

/// Reads the response chunks of one request, one at a time.
pub struct ResponseReader<R> {
    reader: BufReader<R>,
    protocol: Protocol,
    preset: Preset,
    digests: Vec<DigestPeriod>,
    max_chunks: u64,
    chunks: u64,
    offset: u64,
    errored: bool,
}

impl<R: AsyncRead + Unpin> ResponseReader<R> {
    /// A reader for the response to a `protocol` request on `chain`, expecting at most
    /// `max_chunks` chunks (the request's `count` for `updates_by_range`).
    pub fn new(reader: R, protocol: Protocol, chain: &ChainConfig, max_chunks: u64) -> Self {
        ResponseReader {
            reader: BufReader::new(reader),
            protocol,
            preset: chain.preset,
            digests: chain.digest_periods(),
            max_chunks: max_chunks.min(protocol.max_response_chunks()),
            chunks: 0,
            offset: 0,
            errored: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next chunk, or `None` when the stream ended cleanly at a chunk boundary.
    pub async fn next_chunk(&mut self) -> Result<Option<ResponseChunk>, WireError> {
        let at = self.offset;
        let mut result = [0u8; 1];
        if at_eof(&mut self.reader, at).await? {
            return Ok(None);
        }
        if self.errored {
            return Err(WireError::TrailingBytes {
                offset: at,
                detail: "data after an error chunk".into(),
            });
        }
        if self.chunks >= self.max_chunks {
            return Err(WireError::TrailingBytes {
                offset: at,
                detail: format!("more than {} response chunk(s)", self.max_chunks),
            });
        }
        read_exact_at(&mut self.reader, &mut result, at, "result code").await?;
        self.offset += 1;
        let result = ResultCode::from_byte(result[0]);

        let (context, fork, bounds) = if result != ResultCode::Success {
            self.errored = true;
            (None, None, (0, 256))
        } else if self.protocol.has_context_bytes() {
            let at = self.offset;
            let mut digest = [0u8; 4];
            read_exact_at(&mut self.reader, &mut digest, at, "context bytes").await?;
            self.offset += 4;
            let digest = ForkDigest::from(digest);
            let fork = self
                .digests
                .iter()
                .find(|period| period.digest == digest)
                .map(|period| period.fork)
                // A block fork without the type is caught by the bounds below.
                .filter(|fork| self.protocol.is_block() || fork.has_light_client())
                .ok_or(WireError::UnknownContext { offset: at, digest })?;
            let bounds = self
                .protocol
                .response_bounds(fork, self.preset)
                .map_err(|source| WireError::Type { offset: at, source })?;
            (Some(digest), Some(fork), bounds)
        } else {
            let bounds = self
                .protocol
                .response_bounds(Fork::Phase0, self.preset)
                .map_err(|source| WireError::Type { offset: at, source })?;
            (None, None, bounds)
        };

        let payload = read_payload(&mut self.reader, &mut self.offset, bounds).await?;
        self.chunks += 1;
        Ok(Some(ResponseChunk {
            result,
            context,
            fork,
            payload,
        }))
    }

    /// Reads every chunk until the stream ends.
    pub async fn read_all(mut self) -> Result<Vec<ResponseChunk>, WireError> {
        let mut chunks = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            chunks.push(chunk);
        }
        Ok(chunks)
    }
}

/// `varint(len) ‖ frames` with `len` checked against `bounds` before anything is allocated.
async fn read_payload<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    offset: &mut u64,
    (min, max): (usize, usize),
) -> Result<Vec<u8>, WireError> {
    let at = *offset;
    let (length, used) = varint::read(reader, at).await?;
    *offset += used;
    let max = max.min(MAX_PAYLOAD_SIZE);
    if length < min as u64 || length > max as u64 {
        return Err(WireError::LengthOutOfBounds {
            offset: at,
            length,
            min,
            max,
        });
    }
    let length = length as usize;
    if length == 0 {
        // An empty payload may still come with a stream identifier frame.
        let buffered = fill_buf_at(reader, *offset).await?;
        if buffered.first() == Some(&0xff) {
            let mut identifier = [0u8; 10];
            read_exact_at(reader, &mut identifier, *offset, "stream identifier").await?;
            if identifier != STREAM_IDENTIFIER {
                return Err(WireError::Snappy {
                    offset: *offset,
                    detail: "bad stream identifier".into(),
                });
            }
            *offset += 10;
        }
        return Ok(Vec::new());
    }
    let (payload, used) = read_frames(reader, length, *offset).await?;
    *offset += used;
    Ok(payload)
}

async fn fill_buf_at<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    offset: u64,
) -> Result<&[u8], WireError> {
    reader.fill_buf().await.map_err(|error| WireError::Io {
        offset,
        detail: error.to_string(),
    })
}

async fn at_eof<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    offset: u64,
) -> Result<bool, WireError> {
    Ok(fill_buf_at(reader, offset).await?.is_empty())
}

async fn expect_eof<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    offset: u64,
) -> Result<(), WireError> {
    if at_eof(reader, offset).await? {
        Ok(())
    } else {
        Err(WireError::TrailingBytes {
            offset,
            detail: "data after the request".into(),
        })
    }
}
