//! BLS12-381 as the consensus layer uses it: minimal-pubkey-size signatures (keys in G1,
//! signatures in G2), the proof-of-possession ciphersuite, `FastAggregateVerify`.
//!
//! A sync committee's 512 keys are decompressed once, when the committee becomes known
//! ([`CommitteeKeys`]); each update then only adds the participants' points, hashes the message
//! to G2 and runs one two-pairing check.

use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
use bls12_381::{
    multi_miller_loop, G1Affine, G1Projective, G2Affine, G2Prepared, G2Projective, Gt,
};

use crate::primitives::{BlsPublicKey, BlsSignature, Root};

/// The ciphersuite's domain separation tag (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`).
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// The public keys of one sync committee, decompressed and checked (`KeyValidate`: on the
/// curve, in the subgroup, not the identity). A key that fails stays `None`: any signature it
/// takes part in is invalid.
#[derive(Clone)]
pub struct CommitteeKeys {
    keys: Vec<Option<G1Affine>>,
}

impl std::fmt::Debug for CommitteeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let invalid = self.keys.iter().filter(|key| key.is_none()).count();
        write!(
            f,
            "CommitteeKeys({} keys, {invalid} invalid)",
            self.keys.len()
        )
    }
}

impl CommitteeKeys {
    /// Decompresses every key.
    pub fn new(pubkeys: &[BlsPublicKey]) -> CommitteeKeys {
        CommitteeKeys {
            keys: pubkeys.iter().map(decompress_key).collect(),
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

    /// `FastAggregateVerify` of `signature` over `message` by the members whose bit is set.
    /// `participants` yields one bit per member, in committee order.
    pub fn fast_aggregate_verify(
        &self,
        participants: impl IntoIterator<Item = bool>,
        message: &Root,
        signature: &BlsSignature,
    ) -> Result<(), BlsError> {
        let mut aggregate = G1Projective::identity();
        let mut count = 0usize;
        for (index, (set, key)) in participants.into_iter().zip(&self.keys).enumerate() {
            if !set {
                continue;
            }
            let key = key.as_ref().ok_or(BlsError::InvalidPublicKey { index })?;
            aggregate += key;
            count += 1;
        }
        if count == 0 {
            return Err(BlsError::NoParticipants);
        }
        verify(&G1Affine::from(aggregate), message, signature)
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
}
