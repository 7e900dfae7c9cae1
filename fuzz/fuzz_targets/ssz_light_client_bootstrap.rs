//! `LightClientBootstrap` SSZ: first byte = fork (altair..fulu) and preset, the rest = the encoding.
//! Accepted input must be canonical and survive Beacon-API JSON → value → SSZ.
#![no_main]

use beacon_p2p::types::SszTypeName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    beacon_p2p_fuzz::check_light_client(SszTypeName::LightClientBootstrap, data);
});
