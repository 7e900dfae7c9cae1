//! Unsigned LEB128 ("protobuf varint") length prefixes, read strictly: at most 10 bytes, no
//! value above `u64::MAX`, and no redundant trailing zero groups.

use futures::io::AsyncRead;

use super::snappy::read_exact_at;
use super::WireError;

/// Appends `value` as a varint.
pub fn encode(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads one varint; returns the value and the number of bytes it took.
pub async fn read<R: AsyncRead + Unpin>(
    reader: &mut R,
    offset: u64,
) -> Result<(u64, u64), WireError> {
    let mut value = 0u64;
    for index in 0..10u32 {
        let mut byte = [0u8; 1];
        read_exact_at(
            reader,
            &mut byte,
            offset + u64::from(index),
            "length prefix",
        )
        .await?;
        let byte = byte[0];
        let bits = u64::from(byte & 0x7f);
        if index == 9 && byte > 0x01 {
            return Err(WireError::Varint {
                offset,
                detail: "value exceeds 64 bits".into(),
            });
        }
        value |= bits << (7 * index);
        if byte & 0x80 == 0 {
            if index > 0 && byte == 0 {
                return Err(WireError::Varint {
                    offset,
                    detail: "non-minimal encoding".into(),
                });
            }
            return Ok((value, u64::from(index) + 1));
        }
    }
    Err(WireError::Varint {
        offset,
        detail: "longer than 10 bytes".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_bytes(bytes: &[u8]) -> Result<(u64, u64), WireError> {
        futures::executor::block_on(read(&mut futures::io::Cursor::new(bytes), 0))
    }

    #[test]
    fn round_trips_and_rejects_bad_encodings() {
        for value in [0, 1, 127, 128, 300, 10 * 1024 * 1024, u64::MAX] {
            let mut out = Vec::new();
            encode(value, &mut out);
            assert_eq!(read_bytes(&out).unwrap(), (value, out.len() as u64));
        }
        assert!(read_bytes(&[0x80, 0x00]).is_err(), "non-minimal");
        assert!(read_bytes(&[0xff; 10]).is_err(), "over 64 bits");
        assert!(read_bytes(&[0x80]).is_err(), "truncated");
    }
}
