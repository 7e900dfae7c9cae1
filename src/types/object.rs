//! A light-client object of any kind, fork and preset, as the client hands it out: checked SSZ
//! bytes, the slots that matter for ordering, and its Beacon-API JSON.

use serde_json::Value;

use super::{
    LightClientBootstrap, LightClientFinalityUpdate, LightClientOptimisticUpdate,
    LightClientUpdate, TypeError,
};
use crate::chain::{Fork, Preset};
use crate::primitives::{Root, Slot};

/// The four light-client objects peers serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LightClientKind {
    /// `LightClientBootstrap`.
    Bootstrap,
    /// `LightClientUpdate`.
    Update,
    /// `LightClientFinalityUpdate`.
    FinalityUpdate,
    /// `LightClientOptimisticUpdate`.
    OptimisticUpdate,
}

impl LightClientKind {
    /// The SSZ type name.
    pub fn type_name(self) -> &'static str {
        match self {
            LightClientKind::Bootstrap => "LightClientBootstrap",
            LightClientKind::Update => "LightClientUpdate",
            LightClientKind::FinalityUpdate => "LightClientFinalityUpdate",
            LightClientKind::OptimisticUpdate => "LightClientOptimisticUpdate",
        }
    }
}

/// A decoded light-client object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightClientObject {
    /// Which object.
    pub kind: LightClientKind,
    /// The fork of its container.
    pub fork: Fork,
    /// Its canonical SSZ encoding.
    pub ssz: Vec<u8>,
    /// `hash_tree_root` of the object.
    pub root: Root,
    /// The slot that orders objects of this kind: the header's for a bootstrap, the attested
    /// header's for updates.
    pub slot: Slot,
    /// `hash_tree_root` of the beacon header at `slot` (the block root).
    pub block_root: Root,
    /// The finalized header's slot (updates with a finality proof).
    pub finalized_slot: Option<Slot>,
    /// `hash_tree_root` of the finalized beacon header.
    pub finalized_root: Option<Root>,
    /// The slot the sync committee signed at (updates).
    pub signature_slot: Option<Slot>,
    /// How many sync-committee members signed (updates).
    pub participation: Option<usize>,
    json: Value,
}

impl LightClientObject {
    /// Decodes and checks `ssz` as `kind` at `fork` with `preset`'s sync committee size.
    pub fn decode(
        kind: LightClientKind,
        fork: Fork,
        preset: Preset,
        ssz: &[u8],
    ) -> Result<Self, TypeError> {
        crate::with_preset!(preset, S => Self::decode_sized::<S>(kind, fork, ssz))
    }

    fn decode_sized<const S: usize>(
        kind: LightClientKind,
        fork: Fork,
        ssz: &[u8],
    ) -> Result<Self, TypeError> {
        use super::containers::BeaconBlockHeader;

        fn header_root(header: &BeaconBlockHeader) -> Root {
            let mut header = header.clone();
            let node = ssz_rs::Merkleized::hash_tree_root(&mut header)
                .expect("beacon headers always merkleize");
            Root::try_from(node.as_ref()).expect("32-byte root")
        }

        let object = |root: Root,
                      json: Value,
                      header: &BeaconBlockHeader,
                      finalized: Option<&BeaconBlockHeader>,
                      signature_slot: Option<Slot>,
                      participation: Option<usize>| LightClientObject {
            kind,
            fork,
            ssz: ssz.to_vec(),
            root,
            slot: header.slot,
            block_root: header_root(header),
            finalized_slot: finalized.map(|header| header.slot),
            finalized_root: finalized.map(header_root),
            signature_slot,
            participation,
            json,
        };
        let update = |value: &dyn UpdateView, finalized: Option<&BeaconBlockHeader>| {
            object(
                value.root(),
                value.json(),
                value.attested(),
                finalized,
                Some(value.signature_slot()),
                Some(value.participation()),
            )
        };
        Ok(match kind {
            LightClientKind::Bootstrap => {
                let value = LightClientBootstrap::<S>::from_ssz(fork, ssz)?;
                object(
                    value.hash_tree_root(),
                    value.to_beacon_api_json(),
                    value.header_beacon(),
                    None,
                    None,
                    None,
                )
            }
            LightClientKind::Update => {
                let value = LightClientUpdate::<S>::from_ssz(fork, ssz)?;
                let finalized = value.finalized_beacon().clone();
                update(&value, Some(&finalized))
            }
            LightClientKind::FinalityUpdate => {
                let value = LightClientFinalityUpdate::<S>::from_ssz(fork, ssz)?;
                let finalized = value.finalized_beacon().clone();
                update(&value, Some(&finalized))
            }
            LightClientKind::OptimisticUpdate => update(
                &LightClientOptimisticUpdate::<S>::from_ssz(fork, ssz)?,
                None,
            ),
        })
    }

    /// Reads the Beacon API's JSON of `kind` (`{"version": "<fork>", "data": {…}}`) with
    /// `preset`'s sync committee size.
    pub fn from_beacon_api_json(
        kind: LightClientKind,
        preset: Preset,
        value: &Value,
    ) -> Result<Self, TypeError> {
        crate::with_preset!(preset, S => {
            let (fork, ssz) = match kind {
                LightClientKind::Bootstrap => {
                    let value = LightClientBootstrap::<S>::from_beacon_api_json(value)?;
                    (value.fork(), value.to_ssz())
                }
                LightClientKind::Update => {
                    let value = LightClientUpdate::<S>::from_beacon_api_json(value)?;
                    (value.fork(), value.to_ssz())
                }
                LightClientKind::FinalityUpdate => {
                    let value = LightClientFinalityUpdate::<S>::from_beacon_api_json(value)?;
                    (value.fork(), value.to_ssz())
                }
                LightClientKind::OptimisticUpdate => {
                    let value = LightClientOptimisticUpdate::<S>::from_beacon_api_json(value)?;
                    (value.fork(), value.to_ssz())
                }
            };
            Self::decode_sized::<S>(kind, fork, &ssz)
        })
    }

    /// The Beacon API's JSON: `{"version": "<fork>", "data": {…}}`.
    pub fn to_beacon_api_json(&self) -> &Value {
        &self.json
    }
}

/// What the three update types share, for building a [`LightClientObject`] from any of them.
trait UpdateView {
    fn root(&self) -> Root;
    fn json(&self) -> Value;
    fn attested(&self) -> &super::containers::BeaconBlockHeader;
    fn signature_slot(&self) -> Slot;
    fn participation(&self) -> usize;
}

macro_rules! update_view {
    ($($name:ident),*) => {$(
        impl<const S: usize> UpdateView for $name<S> {
            fn root(&self) -> Root {
                self.hash_tree_root()
            }
            fn json(&self) -> Value {
                self.to_beacon_api_json()
            }
            fn attested(&self) -> &super::containers::BeaconBlockHeader {
                self.attested_beacon()
            }
            fn signature_slot(&self) -> Slot {
                $name::signature_slot(self)
            }
            fn participation(&self) -> usize {
                $name::participation(self)
            }
        }
    )*};
}

update_view!(
    LightClientUpdate,
    LightClientFinalityUpdate,
    LightClientOptimisticUpdate
);
