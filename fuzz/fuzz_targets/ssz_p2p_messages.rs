//! The p2p SSZ messages (status, metadata, ping, goodbye, ENR fork id, error message, the
//! light-client request types): first byte = type, the rest = the encoding. Accepted input must
//! be within the type's bounds and re-encode to itself.
#![no_main]

use beacon_p2p::chain::{Fork, Preset};
use beacon_p2p::types::{decode_named, ssz_bounds_named};
use beacon_p2p_fuzz::P2P_TYPES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let type_name = P2P_TYPES[usize::from(selector) % P2P_TYPES.len()];
    let Ok(decoded) = decode_named(type_name, Fork::Phase0, Preset::Mainnet, bytes) else {
        return;
    };
    let (min, max) = ssz_bounds_named(type_name, Fork::Phase0, Preset::Mainnet).expect("bounds");
    assert!(
        (min..=max).contains(&bytes.len()),
        "{type_name}: {} bytes accepted outside {min}..={max}",
        bytes.len()
    );
    assert_eq!(decoded.type_name, type_name);
    assert_eq!(decoded.fork, None);
    assert!(
        decoded.ssz == bytes,
        "{type_name}: re-encoding differs from the accepted input ({} bytes in, {} out)",
        bytes.len(),
        decoded.ssz.len()
    );
});
