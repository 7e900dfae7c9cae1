//! Merkle proofs of the light-client protocol: which generalized index a branch proves, by fork,
//! and the branch check itself.
//!
//! Our own check rather than `ssz_rs`'s: that one ignores branch nodes past the depth, and the
//! spec's normalized check requires those to be zero.

use sha2::{Digest, Sha256};

use crate::chain::Fork;
use crate::primitives::{Bytes32, Root};

/// A generalized index: the position of a node in a binary Merkle tree (root = 1).
pub type GeneralizedIndex = u64;

/// `EXECUTION_PAYLOAD_GINDEX`: the execution payload in a capella-or-later block body.
pub const EXECUTION_PAYLOAD_GINDEX: GeneralizedIndex = 25;
/// `FINALIZED_ROOT_GINDEX` of altair–deneb states.
pub const FINALIZED_ROOT_GINDEX: GeneralizedIndex = 105;
/// `CURRENT_SYNC_COMMITTEE_GINDEX` of altair–deneb states.
pub const CURRENT_SYNC_COMMITTEE_GINDEX: GeneralizedIndex = 54;
/// `NEXT_SYNC_COMMITTEE_GINDEX` of altair–deneb states.
pub const NEXT_SYNC_COMMITTEE_GINDEX: GeneralizedIndex = 55;
/// `FINALIZED_ROOT_GINDEX_ELECTRA` (EIP-7688 moved the state's fields; fulu keeps them).
pub const FINALIZED_ROOT_GINDEX_ELECTRA: GeneralizedIndex = 169;
/// `CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA`.
pub const CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA: GeneralizedIndex = 86;
/// `NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA`.
pub const NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA: GeneralizedIndex = 87;

/// What a state branch proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateField {
    /// `finalized_checkpoint.root`.
    FinalizedRoot,
    /// `current_sync_committee`.
    CurrentSyncCommittee,
    /// `next_sync_committee`.
    NextSyncCommittee,
}

impl StateField {
    /// The field's generalized index in the state of `fork` (`*_gindex_at_slot`).
    pub fn gindex(self, fork: Fork) -> GeneralizedIndex {
        let electra = fork >= Fork::Electra;
        match (self, electra) {
            (StateField::FinalizedRoot, false) => FINALIZED_ROOT_GINDEX,
            (StateField::FinalizedRoot, true) => FINALIZED_ROOT_GINDEX_ELECTRA,
            (StateField::CurrentSyncCommittee, false) => CURRENT_SYNC_COMMITTEE_GINDEX,
            (StateField::CurrentSyncCommittee, true) => CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA,
            (StateField::NextSyncCommittee, false) => NEXT_SYNC_COMMITTEE_GINDEX,
            (StateField::NextSyncCommittee, true) => NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA,
        }
    }

    /// The name used in errors.
    pub fn name(self) -> &'static str {
        match self {
            StateField::FinalizedRoot => "finality",
            StateField::CurrentSyncCommittee => "current sync committee",
            StateField::NextSyncCommittee => "next sync committee",
        }
    }
}

/// `floorlog2(gindex)`: the depth of the node.
pub fn depth(gindex: GeneralizedIndex) -> usize {
    (63 - gindex.max(1).leading_zeros()) as usize
}

/// `is_valid_merkle_branch`: `leaf` at `index` of a tree of `depth` under `root`. A branch of
/// another length is invalid.
pub fn is_valid_merkle_branch(
    leaf: &Root,
    branch: &[Bytes32],
    depth: usize,
    index: u64,
    root: &Root,
) -> bool {
    if branch.len() != depth {
        return false;
    }
    let mut node = leaf.0;
    for (height, sibling) in branch.iter().enumerate() {
        let mut hasher = Sha256::new();
        if (index >> height) & 1 == 1 {
            hasher.update(sibling.0);
            hasher.update(node);
        } else {
            hasher.update(node);
            hasher.update(sibling.0);
        }
        node = hasher.finalize().into();
    }
    node == root.0
}

/// `is_valid_normalized_merkle_branch`: a branch sized for a deeper tree than `gindex`'s proves
/// it when its extra leading nodes are zero (a fork's container carried past its fork).
pub fn is_valid_normalized_merkle_branch(
    leaf: &Root,
    branch: &[Bytes32],
    gindex: GeneralizedIndex,
    root: &Root,
) -> bool {
    let depth = depth(gindex);
    let Some(extra) = branch.len().checked_sub(depth) else {
        return false;
    };
    if branch[..extra].iter().any(|node| node.0 != [0u8; 32]) {
        return false;
    }
    let index = gindex % (1u64 << depth);
    is_valid_merkle_branch(leaf, &branch[extra..], depth, index, root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(left);
        hasher.update(right);
        hasher.finalize().into()
    }

    /// A tree of depth 2 over four leaves; proves leaf 2 (gindex 6).
    fn tree() -> (Root, Vec<Bytes32>, Root) {
        let leaves = [[1u8; 32], [2u8; 32], [3u8; 32], [4u8; 32]];
        let left = hash(&leaves[0], &leaves[1]);
        let right = hash(&leaves[2], &leaves[3]);
        let root = hash(&left, &right);
        let branch = vec![Bytes32::from(leaves[3]), Bytes32::from(left)];
        (Root::from(leaves[2]), branch, Root::from(root))
    }

    #[test]
    fn depths_of_the_protocols_gindices() {
        assert_eq!(depth(EXECUTION_PAYLOAD_GINDEX), 4);
        assert_eq!(depth(FINALIZED_ROOT_GINDEX), 6);
        assert_eq!(depth(NEXT_SYNC_COMMITTEE_GINDEX), 5);
        assert_eq!(depth(FINALIZED_ROOT_GINDEX_ELECTRA), 7);
        assert_eq!(depth(CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA), 6);
        assert_eq!(depth(1), 0);
    }

    #[test]
    fn a_branch_proves_its_leaf_and_nothing_else() {
        let (leaf, branch, root) = tree();
        assert!(is_valid_merkle_branch(&leaf, &branch, 2, 2, &root));
        assert!(is_valid_normalized_merkle_branch(&leaf, &branch, 6, &root));
        assert!(!is_valid_merkle_branch(&leaf, &branch, 2, 3, &root));
        assert!(!is_valid_merkle_branch(
            &Root::from([9u8; 32]),
            &branch,
            2,
            2,
            &root
        ));
        let mut wrong = branch.clone();
        wrong[1].0[0] ^= 1;
        assert!(!is_valid_merkle_branch(&leaf, &wrong, 2, 2, &root));
        // Too short, too long.
        assert!(!is_valid_merkle_branch(&leaf, &branch[..1], 2, 2, &root));
        assert!(!is_valid_normalized_merkle_branch(
            &leaf,
            &branch[..1],
            6,
            &root
        ));
    }

    #[test]
    fn extra_nodes_of_a_normalized_branch_must_be_zero() {
        let (leaf, branch, root) = tree();
        let mut padded = vec![Bytes32::default()];
        padded.extend(branch.iter().cloned());
        assert!(is_valid_normalized_merkle_branch(&leaf, &padded, 6, &root));
        padded[0].0[31] = 1;
        assert!(!is_valid_normalized_merkle_branch(&leaf, &padded, 6, &root));
    }
}
