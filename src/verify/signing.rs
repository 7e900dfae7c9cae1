//! What the sync committee signs: `compute_domain(DOMAIN_SYNC_COMMITTEE, …)` and the signing
//! root of a beacon block header.

use sha2::{Digest, Sha256};

use crate::chain::{compute_fork_data_root, ChainConfig};
use crate::primitives::{Root, Slot, Version};

/// `DOMAIN_SYNC_COMMITTEE`.
pub const DOMAIN_SYNC_COMMITTEE: [u8; 4] = [7, 0, 0, 0];

/// `compute_domain(domain_type, fork_version, genesis_validators_root)`.
pub fn compute_domain(
    domain_type: [u8; 4],
    fork_version: &Version,
    genesis_validators_root: &Root,
) -> Root {
    let fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root);
    let mut domain = [0u8; 32];
    domain[..4].copy_from_slice(&domain_type);
    domain[4..].copy_from_slice(&fork_data_root.0[..28]);
    Root::from(domain)
}

/// `compute_signing_root(object, domain)` given the object's `hash_tree_root`: the root of the
/// two-field `SigningData` container.
pub fn compute_signing_root(object_root: &Root, domain: &Root) -> Root {
    let mut hasher = Sha256::new();
    hasher.update(object_root.0);
    hasher.update(domain.0);
    Root::from(<[u8; 32]>::from(hasher.finalize()))
}

/// The domain a sync aggregate signed at `signature_slot` is verified under: the fork version
/// of the slot *before* it (the committee signs the previous slot's block, and at a fork
/// boundary that block belongs to the old fork).
pub fn sync_committee_domain(chain: &ChainConfig, signature_slot: Slot) -> Root {
    let fork_version_slot = signature_slot.max(1) - 1;
    let version = chain.fork_version_at_epoch(chain.epoch_at_slot(fork_version_slot));
    compute_domain(
        DOMAIN_SYNC_COMMITTEE,
        &version,
        &chain.genesis_validators_root,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;

    #[test]
    fn the_domain_follows_the_fork_of_the_slot_before_the_signature() {
        let chain = Network::Mainnet.config();
        let fulu = chain.activation(crate::chain::Fork::Fulu).unwrap().epoch;
        let first_fulu_slot = fulu * 32;
        let before = sync_committee_domain(&chain, first_fulu_slot);
        let after = sync_committee_domain(&chain, first_fulu_slot + 1);
        assert_ne!(before, after);
        assert_eq!(&before.0[..4], &DOMAIN_SYNC_COMMITTEE);
        let electra = chain.activation(crate::chain::Fork::Electra).unwrap();
        assert_eq!(
            before,
            compute_domain(
                DOMAIN_SYNC_COMMITTEE,
                &electra.version,
                &chain.genesis_validators_root
            )
        );
        // Slot 0 signs under the genesis fork.
        assert_eq!(
            sync_committee_domain(&chain, 0),
            sync_committee_domain(&chain, 1)
        );
    }
}
