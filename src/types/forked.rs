//! Fork-tagged light-client objects: one enum per light-client type, one variant per fork, so a
//! caller always knows which fork's container it holds and never guesses.
//!
//! The variant is chosen from outside the bytes (context bytes, a topic's fork digest, or the
//! Beacon API's `version`), never by trial decoding.

use serde_json::{json, Value};
use ssz_rs::prelude::{Deserialize as _, Merkleized as _, Serialize as _};

use super::containers::{altair, capella, deneb, electra, BeaconBlockHeader};
use super::TypeError;
use crate::chain::Fork;
use crate::primitives::{Root, Slot};

/// Access to the beacon block header inside any fork's `LightClientHeader`.
pub trait HasBeaconHeader {
    /// The beacon block header.
    fn beacon(&self) -> &BeaconBlockHeader;
}

impl HasBeaconHeader for altair::LightClientHeader {
    fn beacon(&self) -> &BeaconBlockHeader {
        &self.beacon
    }
}

impl HasBeaconHeader for capella::LightClientHeader {
    fn beacon(&self) -> &BeaconBlockHeader {
        &self.beacon
    }
}

impl HasBeaconHeader for deneb::LightClientHeader {
    fn beacon(&self) -> &BeaconBlockHeader {
        &self.beacon
    }
}

/// Evaluates `$body` with `$inner` bound to the container of whichever fork `$value` holds.
macro_rules! each_fork {
    ($value:expr, $inner:ident => $body:expr) => {
        match $value {
            Self::Altair($inner) => $body,
            Self::Bellatrix($inner) => $body,
            Self::Capella($inner) => $body,
            Self::Deneb($inner) => $body,
            Self::Electra($inner) => $body,
            Self::Fulu($inner) => $body,
        }
    };
}

macro_rules! forked_type {
    (
        $(#[$doc:meta])*
        $name:ident [$($generics:tt)*] [$($args:tt)*], headers = $headers:expr,
        altair = $altair:ty, capella = $capella:ty, deneb = $deneb:ty, electra = $electra:ty
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name<$($generics)*> {
            /// Altair.
            Altair($altair),
            /// Bellatrix (altair's container).
            Bellatrix($altair),
            /// Capella.
            Capella($capella),
            /// Deneb.
            Deneb($deneb),
            /// Electra.
            Electra($electra),
            /// Fulu (electra's container).
            Fulu($electra),
        }

        impl<$($generics)*> $name<$($args)*> {
            /// The SSZ type name, as the consensus specs and the conformance vectors spell it.
            pub const TYPE_NAME: &'static str = stringify!($name);

            /// The fork whose container this is.
            pub fn fork(&self) -> Fork {
                match self {
                    Self::Altair(_) => Fork::Altair,
                    Self::Bellatrix(_) => Fork::Bellatrix,
                    Self::Capella(_) => Fork::Capella,
                    Self::Deneb(_) => Fork::Deneb,
                    Self::Electra(_) => Fork::Electra,
                    Self::Fulu(_) => Fork::Fulu,
                }
            }

            /// Decodes the SSZ bytes of `fork`'s container.
            pub fn from_ssz(fork: Fork, bytes: &[u8]) -> Result<Self, TypeError> {
                let (min, max) = Self::ssz_bounds(fork)?;
                if bytes.len() < min || bytes.len() > max {
                    return Err(TypeError::Length {
                        type_name: Self::TYPE_NAME,
                        fork,
                        length: bytes.len(),
                        min,
                        max,
                    });
                }
                let decode_error = |error: ssz_rs::DeserializeError| TypeError::Decode {
                    type_name: Self::TYPE_NAME,
                    fork,
                    detail: error.to_string(),
                };
                Ok(match fork {
                    Fork::Phase0 => unreachable!("ssz_bounds rejects phase0"),
                    Fork::Altair => Self::Altair(<$altair>::deserialize(bytes).map_err(decode_error)?),
                    Fork::Bellatrix => {
                        Self::Bellatrix(<$altair>::deserialize(bytes).map_err(decode_error)?)
                    }
                    Fork::Capella => Self::Capella(<$capella>::deserialize(bytes).map_err(decode_error)?),
                    Fork::Deneb => Self::Deneb(<$deneb>::deserialize(bytes).map_err(decode_error)?),
                    Fork::Electra => Self::Electra(<$electra>::deserialize(bytes).map_err(decode_error)?),
                    Fork::Fulu => Self::Fulu(<$electra>::deserialize(bytes).map_err(decode_error)?),
                })
            }

            /// Smallest and largest SSZ encoding of `fork`'s container, in bytes.
            pub fn ssz_bounds(fork: Fork) -> Result<(usize, usize), TypeError> {
                // Every chunk of a stream checks its length against these before decoding;
                // computing them serializes a default container (a 512-key committee), so
                // they are computed once per type and fork.
                cached_bounds(std::any::TypeId::of::<Self>(), fork, Self::compute_ssz_bounds)
            }

            fn compute_ssz_bounds(fork: Fork) -> Result<(usize, usize), TypeError> {
                fn encoded_len<T: ssz_rs::Serialize + Default>() -> usize {
                    let mut buffer = Vec::new();
                    T::default().serialize(&mut buffer).expect("default value serializes");
                    buffer.len()
                }
                // From capella on every header carries `extra_data: ByteList[32]`, the only
                // variable-size field of these types.
                let (min, extra) = match fork {
                    Fork::Phase0 => {
                        return Err(TypeError::NoSuchFork { type_name: Self::TYPE_NAME, fork })
                    }
                    Fork::Altair | Fork::Bellatrix => (encoded_len::<$altair>(), 0),
                    Fork::Capella => (encoded_len::<$capella>(), $headers * 32),
                    Fork::Deneb => (encoded_len::<$deneb>(), $headers * 32),
                    Fork::Electra | Fork::Fulu => (encoded_len::<$electra>(), $headers * 32),
                };
                Ok((min, min + extra))
            }

            /// The SSZ encoding.
            pub fn to_ssz(&self) -> Vec<u8> {
                let mut buffer = Vec::new();
                each_fork!(self, inner => inner.serialize(&mut buffer))
                    .expect("light-client containers always serialize");
                buffer
            }

            /// `hash_tree_root` of the container.
            pub fn hash_tree_root(&self) -> Root {
                // ssz_rs merkleizes through `&mut self` (for caching); hash a copy.
                let mut owned = self.clone();
                let node = each_fork!(&mut owned, inner => inner.hash_tree_root())
                    .expect("light-client containers always merkleize");
                Root::try_from(node.as_ref()).expect("32-byte root")
            }

            /// The Beacon API's JSON: `{"version": "<fork>", "data": {…}}`.
            pub fn to_beacon_api_json(&self) -> Value {
                let data = each_fork!(self, inner => serde_json::to_value(inner))
                    .expect("light-client containers always convert to JSON");
                json!({ "version": self.fork().name(), "data": data })
            }

            /// Reads the Beacon API's JSON: `{"version": "<fork>", "data": {…}}`.
            pub fn from_beacon_api_json(value: &Value) -> Result<Self, TypeError> {
                let version = value
                    .get("version")
                    .and_then(Value::as_str)
                    .ok_or_else(|| TypeError::Json("missing string field \"version\"".into()))?;
                let fork: Fork = version.parse().map_err(|_| {
                    TypeError::Json(format!("unknown version {version:?}"))
                })?;
                let data = value
                    .get("data")
                    .ok_or_else(|| TypeError::Json("missing field \"data\"".into()))?;
                Self::from_json_data(fork, data)
            }

            /// Reads the `data` object of the Beacon API's JSON for a known fork.
            pub fn from_json_data(fork: Fork, data: &Value) -> Result<Self, TypeError> {
                let json_error = |error: serde_json::Error| {
                    TypeError::Json(format!("{} ({}): {error}", Self::TYPE_NAME, fork))
                };
                Ok(match fork {
                    Fork::Phase0 => {
                        return Err(TypeError::NoSuchFork { type_name: Self::TYPE_NAME, fork })
                    }
                    Fork::Altair => Self::Altair(<$altair>::deserialize_json(data).map_err(json_error)?),
                    Fork::Bellatrix => {
                        Self::Bellatrix(<$altair>::deserialize_json(data).map_err(json_error)?)
                    }
                    Fork::Capella => Self::Capella(<$capella>::deserialize_json(data).map_err(json_error)?),
                    Fork::Deneb => Self::Deneb(<$deneb>::deserialize_json(data).map_err(json_error)?),
                    Fork::Electra => Self::Electra(<$electra>::deserialize_json(data).map_err(json_error)?),
                    Fork::Fulu => Self::Fulu(<$electra>::deserialize_json(data).map_err(json_error)?),
                })
            }
        }
    };
}

/// `serde_json::from_value` without consuming the value.
trait FromJson: Sized {
    fn deserialize_json(value: &Value) -> Result<Self, serde_json::Error>;
}

impl<T: serde::de::DeserializeOwned> FromJson for T {
    fn deserialize_json(value: &Value) -> Result<Self, serde_json::Error> {
        T::deserialize(value)
    }
}

forked_type!(
    /// `LightClientHeader` of any fork.
    LightClientHeader [] [], headers = 1,
    altair = altair::LightClientHeader,
    capella = capella::LightClientHeader,
    deneb = deneb::LightClientHeader,
    electra = electra::LightClientHeader
);

forked_type!(
    /// `LightClientBootstrap` of any fork; `S` is the preset's sync committee size.
    LightClientBootstrap [const S: usize] [S], headers = 1,
    altair = altair::LightClientBootstrap<S>,
    capella = capella::LightClientBootstrap<S>,
    deneb = deneb::LightClientBootstrap<S>,
    electra = electra::LightClientBootstrap<S>
);

forked_type!(
    /// `LightClientUpdate` of any fork; `S` is the preset's sync committee size.
    LightClientUpdate [const S: usize] [S], headers = 2,
    altair = altair::LightClientUpdate<S>,
    capella = capella::LightClientUpdate<S>,
    deneb = deneb::LightClientUpdate<S>,
    electra = electra::LightClientUpdate<S>
);

forked_type!(
    /// `LightClientFinalityUpdate` of any fork; `S` is the preset's sync committee size.
    LightClientFinalityUpdate [const S: usize] [S], headers = 2,
    altair = altair::LightClientFinalityUpdate<S>,
    capella = capella::LightClientFinalityUpdate<S>,
    deneb = deneb::LightClientFinalityUpdate<S>,
    electra = electra::LightClientFinalityUpdate<S>
);

forked_type!(
    /// `LightClientOptimisticUpdate` of any fork; `S` is the preset's sync committee size.
    LightClientOptimisticUpdate [const S: usize] [S], headers = 1,
    altair = altair::LightClientOptimisticUpdate<S>,
    capella = capella::LightClientOptimisticUpdate<S>,
    deneb = deneb::LightClientOptimisticUpdate<S>,
    electra = electra::LightClientOptimisticUpdate<S>
);

impl LightClientHeader {
    /// The beacon block header.
    pub fn beacon(&self) -> &BeaconBlockHeader {
        each_fork!(self, inner => inner.beacon())
    }
}

impl<const S: usize> LightClientBootstrap<S> {
    /// The checkpoint's beacon block header; its slot selects the context bytes.
    pub fn header_beacon(&self) -> &BeaconBlockHeader {
        each_fork!(self, inner => inner.header.beacon())
    }
}

/// Accessors shared by the three update types.
macro_rules! update_accessors {
    ($name:ident) => {
        impl<const S: usize> $name<S> {
            /// The attested beacon block header; its slot selects the context bytes and the topic.
            pub fn attested_beacon(&self) -> &BeaconBlockHeader {
                each_fork!(self, inner => inner.attested_header.beacon())
            }

            /// Slot at which the sync committee signed.
            pub fn signature_slot(&self) -> Slot {
                each_fork!(self, inner => inner.signature_slot)
            }

            /// How many sync-committee members signed.
            pub fn participation(&self) -> usize {
                each_fork!(self, inner => inner.sync_aggregate.sync_committee_bits.count_ones())
            }
        }
    };
}

update_accessors!(LightClientUpdate);
update_accessors!(LightClientFinalityUpdate);
update_accessors!(LightClientOptimisticUpdate);

impl<const S: usize> LightClientUpdate<S> {
    /// The finalized beacon block header.
    pub fn finalized_beacon(&self) -> &BeaconBlockHeader {
        each_fork!(self, inner => inner.finalized_header.beacon())
    }
}

impl<const S: usize> LightClientFinalityUpdate<S> {
    /// The finalized beacon block header.
    pub fn finalized_beacon(&self) -> &BeaconBlockHeader {
        each_fork!(self, inner => inner.finalized_header.beacon())
    }
}

/// Smallest and largest encoding of one container type at one fork.
type BoundsEntry = ((std::any::TypeId, Fork), (usize, usize));

/// SSZ bounds computed so far, by container type and fork (a few dozen entries at most).
static SSZ_BOUNDS: std::sync::Mutex<Vec<BoundsEntry>> = std::sync::Mutex::new(Vec::new());

fn cached_bounds(
    type_id: std::any::TypeId,
    fork: Fork,
    compute: fn(Fork) -> Result<(usize, usize), TypeError>,
) -> Result<(usize, usize), TypeError> {
    let key = (type_id, fork);
    let lock = || {
        SSZ_BOUNDS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some((_, bounds)) = lock().iter().find(|(k, _)| *k == key) {
        return Ok(*bounds);
    }
    let bounds = compute(fork)?;
    lock().push((key, bounds));
    Ok(bounds)
}
