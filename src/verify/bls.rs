//! BLS12-381 as the consensus layer uses it: minimal-pubkey-size signatures (keys in G1,
//! signatures in G2), the proof-of-possession ciphersuite, `FastAggregateVerify`.
//!
//! A sync committee's keys are decompressed at most once ([`CommitteeKeys`]). Decompression is
//! the expensive part (a square root and a subgroup check per key: ~400 ms for 512 keys in the
//! browser, bench/README.md `verify`), so with the committee's `aggregate_pubkey` at hand a
//! signature of more than half the committee is checked against the aggregate minus the members
//! who did not sign, decompressing only those; each update then adds (or subtracts) points,
//! hashes the message to G2 and runs one two-pairing check.

use std::sync::OnceLock;

use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
use bls12_381::{
    multi_miller_loop, G1Affine, G1Projective, G2Affine, G2Prepared, G2Projective, Gt,
};

use crate::primitives::{BlsPublicKey, BlsSignature, Root};

/// The ciphersuite's domain separation tag (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`).
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// The public keys of one sync committee, each decompressed and checked (`KeyValidate`: on the
/// curve, in the subgroup, not the identity) the first time a signature needs it. A key that
/// fails stays `None`: any signature it takes part in is invalid.
#[derive(Clone)]
pub struct CommitteeKeys {
    compressed: Vec<BlsPublicKey>,
    keys: Vec<OnceLock<Option<G1Affine>>>,
    /// The committee's `aggregate_pubkey`, decompressed (`None`: not given, or not a valid key).
    aggregate: Option<G1Affine>,
}

impl std::fmt::Debug for CommitteeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let decompressed = self.keys.iter().filter(|key| key.get().is_some()).count();
        let invalid = self
            .keys
            .iter()
            .filter(|key| matches!(key.get(), Some(None)))
            .count();
        write!(
            f,
            "CommitteeKeys({} keys, {decompressed} decompressed, {invalid} invalid, aggregate {})",
            self.keys.len(),
            if self.aggregate.is_some() {
                "known"
            } else {
                "unknown"
            }
        )
    }
}

impl CommitteeKeys {
    /// Decompresses every key now (no aggregate: every signature sums its participants).
    pub fn new(pubkeys: &[BlsPublicKey]) -> CommitteeKeys {
        let keys = CommitteeKeys::lazy(pubkeys, None);
        for index in 0..keys.len() {
            keys.key(index);
        }
        keys
    }

    /// Keys decompressed when first needed. `aggregate` is the committee's `aggregate_pubkey`
    /// (the sum of `pubkeys`): trusted exactly as far as the keys are, since both come from the
    /// same proven `SyncCommittee`, and the chain only admits valid keys.
    pub fn lazy(pubkeys: &[BlsPublicKey], aggregate: Option<&BlsPublicKey>) -> CommitteeKeys {
        CommitteeKeys {
            compressed: pubkeys.to_vec(),
            keys: pubkeys.iter().map(|_| OnceLock::new()).collect(),
            aggregate: aggregate.and_then(decompress_key),
        }
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the committee has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys have been decompressed so far.
    pub fn decompressed(&self) -> usize {
        self.keys.iter().filter(|key| key.get().is_some()).count()
    }

    fn key(&self, index: usize) -> Option<&G1Affine> {
        self.keys[index]
            .get_or_init(|| decompress_key(&self.compressed[index]))
            .as_ref()
    }

    /// `FastAggregateVerify` of `signature` over `message` by the members whose bit is set.
    /// `participants` yields one bit per member, in committee order.
    pub fn fast_aggregate_verify(
        &self,
        participants: impl IntoIterator<Item = bool>,
        message: &Root,
        signature: &BlsSignature,
    ) -> Result<(), BlsError> {
        let bits: Vec<bool> = participants.into_iter().take(self.len()).collect();
        let count = bits.iter().filter(|set| **set).count();
        if count == 0 {
            return Err(BlsError::NoParticipants);
        }
        if let Some(aggregate) = self.aggregate.filter(|_| 2 * count > self.len()) {
            // The participants' sum as the aggregate minus the others. Any failure here (an
            // absent key's bytes invalid, an aggregate that does not match its keys, a bad
            // signature) is decided by the sum of the participants below, as the spec has it.
            let mut sum = G1Projective::from(aggregate);
            let absent =
                (0..self.len()).filter(|index| !bits.get(*index).copied().unwrap_or(false));
            let mut usable = true;
            for index in absent {
                match self.key(index) {
                    Some(key) => sum -= key,
                    None => {
                        usable = false;
                        break;
                    }
                }
            }
            if usable && verify(&G1Affine::from(sum), message, signature).is_ok() {
                return Ok(());
            }
        }
        let mut sum = G1Projective::identity();
        for (index, set) in bits.iter().enumerate() {
            if *set {
                sum += self
                    .key(index)
                    .ok_or(BlsError::InvalidPublicKey { index })?;
            }
        }
        verify(&G1Affine::from(sum), message, signature)
    }
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// A participant's key is not a valid G1 point.
    #[error("public key {index} of the committee is not a valid BLS key")]
    InvalidPublicKey {
        /// Its position in the committee.
        index: usize,
    },
    /// The signature bytes are not a valid G2 point in the subgroup.
    #[error("the signature is not a valid compressed G2 point")]
    InvalidSignature,
    /// `FastAggregateVerify` with an empty set of keys is false by definition.
    #[error("no participants")]
    NoParticipants,
    /// The pairing check failed.
    #[error("the signature does not match the participants' keys and the signing root")]
    Mismatch,
}

fn decompress_key(key: &BlsPublicKey) -> Option<G1Affine> {
    let point = Option::<G1Affine>::from(G1Affine::from_compressed(&key.0))?;
    (!bool::from(point.is_identity())).then_some(point)
}

/// `CoreVerify(PK, message, signature)`: e(PK, H(m)) == e(g1, σ), checked as one product of two
/// Miller loops and one final exponentiation.
fn verify(key: &G1Affine, message: &Root, signature: &BlsSignature) -> Result<(), BlsError> {
    let signature = Option::<G2Affine>::from(G2Affine::from_compressed(&signature.0))
        .ok_or(BlsError::InvalidSignature)?;
    let hashed = G2Affine::from(<G2Projective as HashToCurve<
        ExpandMsgXmd<sha2_09::Sha256>,
    >>::hash_to_curve(message.0, DST));
    let minus_generator = -G1Affine::generator();
    let product = multi_miller_loop(&[
        (key, &G2Prepared::from(hashed)),
        (&minus_generator, &G2Prepared::from(signature)),
    ])
    .final_exponentiation();
    if product == Gt::identity() {
        Ok(())
    } else {
        Err(BlsError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use bls12_381::Scalar;

    use super::*;

    /// Signs the way a validator does, for tests: σ = sk · H(m).
    fn sign(secret: u64, message: &Root) -> BlsSignature {
        let hashed = <G2Projective as HashToCurve<ExpandMsgXmd<sha2_09::Sha256>>>::hash_to_curve(
            message.0, DST,
        );
        BlsSignature::from(G2Affine::from(hashed * Scalar::from(secret)).to_compressed())
    }

    fn public_key(secret: u64) -> BlsPublicKey {
        BlsPublicKey::from(
            G1Affine::from(G1Affine::generator() * Scalar::from(secret)).to_compressed(),
        )
    }

    #[test]
    fn an_aggregate_of_the_participants_verifies_and_nothing_else_does() {
        let message = Root::from([5u8; 32]);
        let keys = CommitteeKeys::new(&[public_key(3), public_key(11), public_key(29)]);
        // Members 0 and 2 sign: the aggregate signature is the signature of the summed key.
        let signature = sign(3 + 29, &message);
        assert_eq!(
            keys.fast_aggregate_verify([true, false, true], &message, &signature),
            Ok(())
        );
        assert_eq!(
            keys.fast_aggregate_verify([true, true, true], &message, &signature),
            Err(BlsError::Mismatch)
        );
        assert_eq!(
            keys.fast_aggregate_verify([true, false, true], &Root::from([6u8; 32]), &signature),
            Err(BlsError::Mismatch)
        );
        assert_eq!(
            keys.fast_aggregate_verify([false, false, false], &message, &signature),
            Err(BlsError::NoParticipants)
        );
        let mut flipped = signature;
        flipped.0[95] ^= 1;
        assert!(keys
            .fast_aggregate_verify([true, false, true], &message, &flipped)
            .is_err());
    }

    #[test]
    fn invalid_keys_fail_only_the_signatures_they_take_part_in() {
        let message = Root::from([1u8; 32]);
        let identity = BlsPublicKey::from(G1Affine::identity().to_compressed());
        let garbage = BlsPublicKey::from([0xffu8; 48]);
        let keys = CommitteeKeys::new(&[public_key(7), identity, garbage]);
        assert_eq!(
            keys.fast_aggregate_verify([true, false, false], &message, &sign(7, &message)),
            Ok(())
        );
        assert_eq!(
            keys.fast_aggregate_verify([true, true, false], &message, &sign(7, &message)),
            Err(BlsError::InvalidPublicKey { index: 1 })
        );
        assert_eq!(
            keys.fast_aggregate_verify([false, false, true], &message, &sign(7, &message)),
            Err(BlsError::InvalidPublicKey { index: 2 })
        );
    }

    fn aggregate_of(secrets: &[u64]) -> BlsPublicKey {
        public_key(secrets.iter().sum())
    }

    #[test]
    fn with_the_aggregate_a_large_majority_decompresses_only_the_absent_keys() {
        let secrets = [3, 11, 29, 41, 53];
        let pubkeys: Vec<_> = secrets.iter().map(|s| public_key(*s)).collect();
        let keys = CommitteeKeys::lazy(&pubkeys, Some(&aggregate_of(&secrets)));
        let message = Root::from([9u8; 32]);
        // All but member 1 sign.
        let signature = sign(3 + 29 + 41 + 53, &message);
        let bits = [true, false, true, true, true];
        assert_eq!(
            keys.fast_aggregate_verify(bits, &message, &signature),
            Ok(())
        );
        assert_eq!(keys.decompressed(), 1);
        // A wrong signature is still wrong (the participants' sum decides, as without it).
        assert_eq!(
            keys.fast_aggregate_verify(bits, &message, &sign(3 + 11, &message)),
            Err(BlsError::Mismatch)
        );
        // A minority is summed directly.
        let fresh = CommitteeKeys::lazy(&pubkeys, Some(&aggregate_of(&secrets)));
        assert_eq!(
            fresh.fast_aggregate_verify(
                [false, true, false, false, true],
                &message,
                &sign(11 + 53, &message)
            ),
            Ok(())
        );
        assert_eq!(fresh.decompressed(), 2);
    }

    #[test]
    fn an_aggregate_that_does_not_match_its_keys_changes_no_verdict() {
        let secrets = [3, 11, 29];
        let pubkeys: Vec<_> = secrets.iter().map(|s| public_key(*s)).collect();
        let message = Root::from([2u8; 32]);
        for aggregate in [public_key(1000), BlsPublicKey::from([0xffu8; 48])] {
            let keys = CommitteeKeys::lazy(&pubkeys, Some(&aggregate));
            assert_eq!(
                keys.fast_aggregate_verify([true, true, false], &message, &sign(3 + 11, &message)),
                Ok(())
            );
            assert_eq!(
                keys.fast_aggregate_verify([true, true, true], &message, &sign(3 + 11, &message)),
                Err(BlsError::Mismatch)
            );
        }
        // An invalid absent key: the participants' sum decides.
        let garbage = BlsPublicKey::from([0xffu8; 48]);
        let keys = CommitteeKeys::lazy(
            &[public_key(3), public_key(11), garbage],
            Some(&aggregate_of(&[3, 11])),
        );
        assert_eq!(
            keys.fast_aggregate_verify([true, true, false], &message, &sign(14, &message)),
            Ok(())
        );
    }
}
