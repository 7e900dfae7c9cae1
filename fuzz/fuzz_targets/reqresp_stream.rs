//! Req/resp `ssz_snappy` streams: first byte = protocol and preset, the rest = a response stream
//! (also read as a request body). Every chunk the reader accepts must be within its type's
//! bounds; every payload that then decodes must be canonical.
#![no_main]

use beacon_p2p::chain::{Fork, Preset};
use beacon_p2p::types::{decode_named, ssz_bounds_named};
use beacon_p2p::wire::{read_request, Protocol, ResponseReader, ResultCode};
use beacon_p2p_fuzz::{chain, preset_of};
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let protocol = Protocol::ALL[usize::from(selector >> 1) % Protocol::ALL.len()];
    let preset = preset_of(selector);
    let chain = chain(preset);

    if let Ok(chunks) = block_on(ResponseReader::new(stream, protocol, chain, 128).read_all()) {
        assert!(chunks.len() as u64 <= protocol.max_response_chunks().min(128));
        for (index, chunk) in chunks.iter().enumerate() {
            if chunk.result != ResultCode::Success {
                assert_eq!(index, chunks.len() - 1, "chunks after an error chunk");
                assert!(chunk.context.is_none() && chunk.fork.is_none());
                assert!(chunk.payload.len() <= 256, "error message over 256 bytes");
                continue;
            }
            assert_eq!(chunk.context.is_some(), protocol.has_context_bytes());
            assert_eq!(chunk.fork.is_some(), protocol.has_context_bytes());
            let fork = chunk.fork.unwrap_or(Fork::Phase0);
            let (min, max) = protocol
                .response_bounds(fork, preset)
                .expect("the reader only accepts forks with bounds");
            assert!(
                (min..=max).contains(&chunk.payload.len()),
                "{protocol} ({fork}): {} bytes accepted outside {min}..={max}",
                chunk.payload.len()
            );
            if let Ok(decoded) =
                decode_named(protocol.response_type(), fork, preset, &chunk.payload)
            {
                assert!(
                    decoded.ssz == chunk.payload,
                    "{protocol} ({fork}): re-encoding differs from the accepted payload"
                );
            }
        }
    }

    if let Ok(body) = block_on(read_request(stream, protocol)) {
        match protocol.request_type() {
            None => assert!(body.is_empty()),
            Some(type_name) => {
                let (min, max) = ssz_bounds_named(type_name, Fork::Phase0, Preset::Mainnet)
                    .expect("request types have bounds");
                assert!((min..=max).contains(&body.len()));
                if let Ok(decoded) = decode_named(type_name, Fork::Phase0, Preset::Mainnet, &body)
                {
                    assert!(decoded.ssz == body, "{type_name}: re-encoding differs");
                }
            }
        }
    }
});
