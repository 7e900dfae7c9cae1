//! Snappy as the consensus wire uses it: the *framing* format for req/resp, the raw *block*
//! format for gossip. The frame reader is incremental over an async stream and never reads or
//! allocates more than the declared payload allows.

use futures::io::{AsyncRead, AsyncReadExt};

use super::WireError;

/// The frame every snappy framing stream starts with.
pub const STREAM_IDENTIFIER: [u8; 10] =
    [0xff, 0x06, 0x00, 0x00, b's', b'N', b'a', b'P', b'p', b'Y'];
const CHUNK_COMPRESSED: u8 = 0x00;
const CHUNK_UNCOMPRESSED: u8 = 0x01;
const CHUNK_PADDING: u8 = 0xfe;
const CHUNK_STREAM_IDENTIFIER: u8 = 0xff;
/// Largest uncompressed data in one frame (the framing format's limit).
const MAX_FRAME_DATA: usize = 65_536;

/// `max_compressed_len(n) = 32 + n + n / 6`: the most framed bytes an honest sender needs for an
/// `n`-byte payload.
pub fn max_compressed_len(n: usize) -> usize {
    32 + n + n / 6
}

/// The framing format's masked CRC-32C of the uncompressed data.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Compresses `data` in the snappy framing format. Frames whose compression saves less than
/// 1/8 are stored uncompressed, as the reference framer does.
pub fn encode_frames(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(STREAM_IDENTIFIER.len() + max_compressed_len(data.len()));
    out.extend_from_slice(&STREAM_IDENTIFIER);
    let mut encoder = snap::raw::Encoder::new();
    for chunk in data.chunks(MAX_FRAME_DATA) {
        let crc = masked_crc(chunk);
        let compressed = encoder
            .compress_vec(chunk)
            .expect("chunks of at most 64 KiB always compress");
        let (kind, body) = if compressed.len() < chunk.len() - chunk.len() / 8 {
            (CHUNK_COMPRESSED, compressed.as_slice())
        } else {
            (CHUNK_UNCOMPRESSED, chunk)
        };
        let length = (body.len() + 4) as u32;
        out.push(kind);
        out.extend_from_slice(&length.to_le_bytes()[..3]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// Reads exactly `expected` uncompressed bytes of snappy frames from `reader`, consuming no byte
/// past the frame that completes them. `offset` is the stream position of the first frame byte
/// (for error messages); the returned count is how many bytes were consumed.
pub async fn read_frames<R: AsyncRead + Unpin>(
    reader: &mut R,
    expected: usize,
    offset: u64,
) -> Result<(Vec<u8>, u64), WireError> {
    let budget = max_compressed_len(expected) as u64;
    let mut consumed: u64 = 0;
    let mut out = Vec::with_capacity(expected);
    let mut seen_identifier = false;
    let mut frame = Vec::new();
    let mut decoder = snap::raw::Decoder::new();

    while out.len() < expected {
        let at = offset + consumed;
        let mut header = [0u8; 4];
        read_exact_at(reader, &mut header, at, "snappy frame header").await?;
        let kind = header[0];
        let length = u32::from_le_bytes([header[1], header[2], header[3], 0]) as usize;
        consumed += 4 + length as u64;
        if consumed > budget {
            return Err(WireError::CompressedTooLong {
                offset: at,
                limit: budget,
                payload: expected,
            });
        }
        let frame_too_long = match kind {
            CHUNK_COMPRESSED => length > 4 + max_compressed_len(MAX_FRAME_DATA),
            CHUNK_UNCOMPRESSED => length > 4 + MAX_FRAME_DATA,
            _ => false,
        };
        if frame_too_long {
            return Err(WireError::Snappy {
                offset: at,
                detail: format!("frame of {length} bytes exceeds the 64 KiB framing limit"),
            });
        }
        frame.clear();
        frame.resize(length, 0);
        read_exact_at(reader, &mut frame, at + 4, "snappy frame").await?;

        match kind {
            CHUNK_STREAM_IDENTIFIER => {
                if frame != STREAM_IDENTIFIER[4..] {
                    return Err(WireError::Snappy {
                        offset: at,
                        detail: "bad stream identifier".into(),
                    });
                }
                seen_identifier = true;
                continue;
            }
            _ if !seen_identifier => {
                return Err(WireError::Snappy {
                    offset: at,
                    detail: format!("frame type 0x{kind:02x} before the stream identifier"),
                })
            }
            CHUNK_COMPRESSED | CHUNK_UNCOMPRESSED => {}
            // Padding and the reserved skippable range carry nothing.
            CHUNK_PADDING | 0x80..=0xfd => continue,
            _ => {
                return Err(WireError::Snappy {
                    offset: at,
                    detail: format!("reserved unskippable frame type 0x{kind:02x}"),
                })
            }
        }

        if length < 4 {
            return Err(WireError::Snappy {
                offset: at,
                detail: format!("data frame of {length} bytes has no checksum"),
            });
        }
        let crc = u32::from_le_bytes(frame[..4].try_into().expect("4 bytes"));
        let body = &frame[4..];
        let start = out.len();
        let room = expected - start;
        if kind == CHUNK_COMPRESSED {
            let size = snap::raw::decompress_len(body).map_err(|error| WireError::Snappy {
                offset: at,
                detail: error.to_string(),
            })?;
            if size > MAX_FRAME_DATA || size > room {
                return Err(WireError::PayloadTooLong {
                    offset: at,
                    expected,
                });
            }
            out.resize(start + size, 0);
            decoder
                .decompress(body, &mut out[start..])
                .map_err(|error| WireError::Snappy {
                    offset: at,
                    detail: error.to_string(),
                })?;
        } else {
            if body.len() > room {
                return Err(WireError::PayloadTooLong {
                    offset: at,
                    expected,
                });
            }
            out.extend_from_slice(body);
        }
        if masked_crc(&out[start..]) != crc {
            return Err(WireError::Snappy {
                offset: at,
                detail: "checksum mismatch".into(),
            });
        }
    }
    Ok((out, consumed))
}

/// `read_exact` that reports where the stream ended, not where the read began.
pub(crate) async fn read_exact_at<R: AsyncRead + Unpin>(
    reader: &mut R,
    buffer: &mut [u8],
    offset: u64,
    what: &'static str,
) -> Result<(), WireError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let at = offset + filled as u64;
        match reader.read(&mut buffer[filled..]).await {
            Ok(0) => return Err(WireError::UnexpectedEof { offset: at, what }),
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(WireError::Io {
                    offset: at,
                    detail: error.to_string(),
                })
            }
        }
    }
    Ok(())
}

/// Compresses a gossip payload (snappy block format).
pub fn encode_block(data: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(data)
        .expect("payloads under 4 GiB always compress")
}

/// Decompresses a gossip payload (snappy block format), refusing before allocating when the
/// declared length exceeds `limit`.
pub fn decode_block(data: &[u8], limit: usize) -> Result<Vec<u8>, WireError> {
    let size = snap::raw::decompress_len(data).map_err(|error| WireError::Snappy {
        offset: 0,
        detail: error.to_string(),
    })?;
    if size > limit {
        return Err(WireError::LengthOutOfBounds {
            offset: 0,
            length: size as u64,
            min: 0,
            max: limit,
        });
    }
    snap::raw::Decoder::new()
        .decompress_vec(data)
        .map_err(|error| WireError::Snappy {
            offset: 0,
            detail: error.to_string(),
        })
}
