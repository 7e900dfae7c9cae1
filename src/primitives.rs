//! SSZ primitives the consensus types are built from: fixed byte vectors, bounded byte lists,
//! `uint256`, and the JSON conventions of the Beacon API (integers as decimal strings, bytes as
//! `0x`-hex).
//!
//! ssz_rs models `ByteVector[N]` as `Vector<u8, N>`, which decodes, stores and hashes byte by
//! byte. Roots, keys and signatures are most of every light-client object, so they get their own
//! types here that plug into ssz_rs's traits and copy whole slices instead.

use std::fmt;

use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use ssz_rs::prelude::{
    Deserialize as SszDeserialize, DeserializeError, MerkleizationError, Merkleized, Node,
    Serialize as SszSerialize, SerializeError, SimpleSerialize,
};

const BYTES_PER_CHUNK: usize = 32;

/// `Slot` in the consensus specs.
pub type Slot = u64;
/// `Epoch` in the consensus specs.
pub type Epoch = u64;

/// SSZ `ByteVector[N]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteVector<const N: usize>(pub [u8; N]);

/// A 32-byte hash tree root (`Root`, `Bytes32`, `Hash32`).
pub type Root = ByteVector<32>;
/// `Bytes32`.
pub type Bytes32 = ByteVector<32>;
/// A compressed BLS12-381 public key.
pub type BlsPublicKey = ByteVector<48>;
/// A compressed BLS12-381 signature.
pub type BlsSignature = ByteVector<96>;
/// An execution-layer address.
pub type ExecutionAddress = ByteVector<20>;
/// The execution payload's logs bloom.
pub type LogsBloom = ByteVector<256>;
/// A fork version (`Version`).
pub type Version = ByteVector<4>;
/// The 4-byte digest that names a fork on the wire (`ForkDigest`).
pub type ForkDigest = ByteVector<4>;

impl<const N: usize> ByteVector<N> {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; N] {
        &self.0
    }

    /// Parses `0x`-prefixed (or bare) hex of exactly `N` bytes.
    pub fn from_hex(text: &str) -> Result<Self, HexError> {
        let bytes = decode_hex(text)?;
        Self::try_from(bytes.as_slice()).map_err(|_| HexError::Length {
            expected: N,
            found: bytes.len(),
        })
    }

    /// `0x`-prefixed lowercase hex.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }
}

impl<const N: usize> Default for ByteVector<N> {
    fn default() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> From<[u8; N]> for ByteVector<N> {
    fn from(bytes: [u8; N]) -> Self {
        Self(bytes)
    }
}

impl<const N: usize> TryFrom<&[u8]> for ByteVector<N> {
    type Error = std::array::TryFromSliceError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        Ok(Self(bytes.try_into()?))
    }
}

impl<const N: usize> AsRef<[u8]> for ByteVector<N> {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> fmt::Debug for ByteVector<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> fmt::Display for ByteVector<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> ssz_rs::Sized for ByteVector<N> {
    fn is_variable_size() -> bool {
        false
    }

    fn size_hint() -> usize {
        N
    }
}

impl<const N: usize> SszSerialize for ByteVector<N> {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, SerializeError> {
        buffer.extend_from_slice(&self.0);
        Ok(N)
    }
}

impl<const N: usize> SszDeserialize for ByteVector<N> {
    fn deserialize(encoding: &[u8]) -> Result<Self, DeserializeError> {
        match encoding.len() {
            len if len < N => Err(DeserializeError::ExpectedFurtherInput {
                provided: len,
                expected: N,
            }),
            len if len > N => Err(DeserializeError::AdditionalInput {
                provided: len,
                expected: N,
            }),
            _ => Ok(Self(encoding.try_into().expect("length checked above"))),
        }
    }
}

impl<const N: usize> Merkleized for ByteVector<N> {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        Ok(node(merkleize_bytes(&self.0, N)))
    }
}

impl<const N: usize> SimpleSerialize for ByteVector<N> {}

impl<const N: usize> Serialize for ByteVector<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de, const N: usize> Deserialize<'de> for ByteVector<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_hex(&text).map_err(D::Error::custom)
    }
}

/// SSZ `ByteList[N]`: at most `N` bytes.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ByteList<const N: usize>(Vec<u8>);

impl<const N: usize> ByteList<N> {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> TryFrom<Vec<u8>> for ByteList<N> {
    type Error = LengthError;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        if bytes.len() > N {
            return Err(LengthError {
                limit: N,
                found: bytes.len(),
            });
        }
        Ok(Self(bytes))
    }
}

/// A byte list longer than its SSZ limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{found} bytes exceed the limit of {limit}")]
pub struct LengthError {
    /// The type's limit.
    pub limit: usize,
    /// The length given.
    pub found: usize,
}

impl<const N: usize> fmt::Debug for ByteList<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl<const N: usize> ssz_rs::Sized for ByteList<N> {
    fn is_variable_size() -> bool {
        true
    }

    fn size_hint() -> usize {
        0
    }
}

impl<const N: usize> SszSerialize for ByteList<N> {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, SerializeError> {
        buffer.extend_from_slice(&self.0);
        Ok(self.0.len())
    }
}

impl<const N: usize> SszDeserialize for ByteList<N> {
    fn deserialize(encoding: &[u8]) -> Result<Self, DeserializeError> {
        if encoding.len() > N {
            return Err(DeserializeError::AdditionalInput {
                provided: encoding.len(),
                expected: N,
            });
        }
        Ok(Self(encoding.to_vec()))
    }
}

impl<const N: usize> Merkleized for ByteList<N> {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        let root = merkleize_bytes(&self.0, N);
        Ok(node(mix_in_length(&root, self.0.len())))
    }
}

impl<const N: usize> SimpleSerialize for ByteList<N> {}

impl<const N: usize> Serialize for ByteList<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0x{}", hex::encode(&self.0)))
    }
}

impl<'de, const N: usize> Deserialize<'de> for ByteList<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let bytes = decode_hex(&text).map_err(D::Error::custom)?;
        Self::try_from(bytes).map_err(D::Error::custom)
    }
}

/// SSZ `uint256`, stored little-endian; JSON is a decimal string as in the Beacon API.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uint256(pub [u8; 32]);

impl Uint256 {
    /// Parses a decimal string below 2^256.
    pub fn from_decimal(text: &str) -> Result<Self, DecimalError> {
        if text.is_empty() || text.len() > 78 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DecimalError(text.chars().take(80).collect()));
        }
        // Little-endian u64 limbs: value = value * 10 + digit.
        let mut limbs = [0u64; 4];
        for digit in text.bytes().map(|b| u64::from(b - b'0')) {
            let mut carry = digit as u128;
            for limb in limbs.iter_mut() {
                let wide = (*limb as u128) * 10 + carry;
                *limb = wide as u64;
                carry = wide >> 64;
            }
            if carry != 0 {
                return Err(DecimalError(text.to_string()));
            }
        }
        let mut bytes = [0u8; 32];
        for (chunk, limb) in bytes.chunks_exact_mut(8).zip(limbs) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        Ok(Self(bytes))
    }

    /// The value as a decimal string.
    pub fn to_decimal(&self) -> String {
        let mut limbs = [0u64; 4];
        for (limb, chunk) in limbs.iter_mut().zip(self.0.chunks_exact(8)) {
            *limb = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        }
        let mut digits = Vec::with_capacity(78);
        while limbs.iter().any(|&l| l != 0) {
            // Divide the 256-bit value by 10, most significant limb first.
            let mut remainder = 0u128;
            for limb in limbs.iter_mut().rev() {
                let wide = (remainder << 64) | (*limb as u128);
                *limb = (wide / 10) as u64;
                remainder = wide % 10;
            }
            digits.push(b'0' + remainder as u8);
        }
        if digits.is_empty() {
            return "0".to_string();
        }
        digits.reverse();
        String::from_utf8(digits).expect("ascii digits")
    }
}

/// A string that is not a decimal `uint256`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a decimal uint256: {0:?}")]
pub struct DecimalError(String);

impl fmt::Debug for Uint256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

impl ssz_rs::Sized for Uint256 {
    fn is_variable_size() -> bool {
        false
    }

    fn size_hint() -> usize {
        32
    }
}

impl SszSerialize for Uint256 {
    fn serialize(&self, buffer: &mut Vec<u8>) -> Result<usize, SerializeError> {
        buffer.extend_from_slice(&self.0);
        Ok(32)
    }
}

impl SszDeserialize for Uint256 {
    fn deserialize(encoding: &[u8]) -> Result<Self, DeserializeError> {
        <ByteVector<32> as SszDeserialize>::deserialize(encoding).map(|bytes| Self(bytes.0))
    }
}

impl Merkleized for Uint256 {
    fn hash_tree_root(&mut self) -> Result<Node, MerkleizationError> {
        Ok(node(self.0))
    }
}

impl SimpleSerialize for Uint256 {
    fn is_composite_type() -> bool {
        false
    }
}

impl Serialize for Uint256 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_decimal())
    }
}

impl<'de> Deserialize<'de> for Uint256 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_decimal(&text).map_err(D::Error::custom)
    }
}

/// Hex text that is not what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// Not valid hex.
    #[error("invalid hex: {0}")]
    Invalid(String),
    /// Valid hex of the wrong length.
    #[error("expected {expected} bytes of hex, found {found}")]
    Length {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
}

/// Decodes `0x`-prefixed or bare hex.
pub fn decode_hex(text: &str) -> Result<Vec<u8>, HexError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    hex::decode(digits).map_err(|error| HexError::Invalid(error.to_string()))
}

/// Serde adapter for `u64` as a decimal string (the Beacon API's integers); also accepts a
/// JSON number when reading, as some servers send them.
pub mod quoted_u64 {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    /// Writes the value as a decimal string.
    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    /// Reads a decimal string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either<'a> {
            Text(std::borrow::Cow<'a, str>),
            Number(u64),
        }
        match Either::deserialize(deserializer)? {
            Either::Number(n) => Ok(n),
            Either::Text(text) => {
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(D::Error::custom(format!("not a decimal uint64: {text:?}")));
                }
                text.parse()
                    .map_err(|_| D::Error::custom(format!("uint64 out of range: {text:?}")))
            }
        }
    }
}

fn node(bytes: [u8; 32]) -> Node {
    Node::try_from(bytes.as_slice()).expect("32-byte node")
}

pub(crate) fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Merkle root of `bytes` packed into 32-byte chunks, padded with zero chunks up to the chunk
/// count of `limit` bytes (rounded up to a power of two). Small types (keys, signatures: hashed
/// hundreds of times per light-client object) work in place on the stack; larger limits
/// (`Transaction` is `ByteList[2**30]`) hash only the chunks present, through
/// [`merkleize_chunks`].
fn merkleize_bytes(bytes: &[u8], limit: usize) -> [u8; 32] {
    // The fixed consensus byte types are at most 256 bytes (logs bloom, error message): 8 chunks.
    const STACK_LEAVES: usize = 8;
    let leaves = limit.div_ceil(BYTES_PER_CHUNK).max(1).next_power_of_two();
    if leaves > STACK_LEAVES {
        let chunks = bytes
            .chunks(BYTES_PER_CHUNK)
            .map(|source| {
                let mut chunk = [0u8; 32];
                chunk[..source.len()].copy_from_slice(source);
                chunk
            })
            .collect();
        return merkleize_chunks(chunks, leaves);
    }
    let mut layer = [[0u8; 32]; STACK_LEAVES];
    for (chunk, source) in layer.iter_mut().zip(bytes.chunks(BYTES_PER_CHUNK)) {
        chunk[..source.len()].copy_from_slice(source);
    }
    let mut width = leaves;
    while width > 1 {
        for index in 0..width / 2 {
            layer[index] = hash_pair(&layer[2 * index], &layer[2 * index + 1]);
        }
        width /= 2;
    }
    layer[0]
}

/// `merkleize(chunks, limit)` of the SSZ spec: the root of a tree with `limit` leaves (rounded up
/// to a power of two), `chunks` first and zero chunks after them. The zero part is never built:
/// at each level an odd node is paired with the root of an all-zero subtree of that height, so
/// the work is the chunks present plus one hash per level, whatever the limit.
///
/// The caller guarantees `chunks.len() <= limit` (the type's bound, checked when decoding).
pub(crate) fn merkleize_chunks(mut layer: Vec<[u8; 32]>, limit: usize) -> [u8; 32] {
    debug_assert!(layer.len() <= limit.max(1));
    let depth = limit.max(1).next_power_of_two().trailing_zeros();
    let mut zero = [0u8; 32];
    if layer.is_empty() {
        layer.push(zero);
    }
    for _ in 0..depth {
        if layer.len() % 2 == 1 {
            layer.push(zero);
        }
        let parents = layer.len() / 2;
        for index in 0..parents {
            layer[index] = hash_pair(&layer[2 * index], &layer[2 * index + 1]);
        }
        layer.truncate(parents);
        zero = hash_pair(&zero, &zero);
    }
    layer[0]
}

/// `mix_in_length(root, length)`: the length is a uint64 in its own chunk, on every target.
pub(crate) fn mix_in_length(root: &[u8; 32], length: usize) -> [u8; 32] {
    let mut chunk = [0u8; BYTES_PER_CHUNK];
    chunk[..8].copy_from_slice(&(length as u64).to_le_bytes());
    hash_pair(root, &chunk)
}

/// The EIP-55 checksummed form of an execution address (`0x` + hex, a letter upper-cased where
/// the matching nibble of `keccak256` of the lowercase hex is 8 or more), as Lodestar's `toJson`
/// writes `ExecutionAddress` fields.
pub fn to_checksum_address(address: &ExecutionAddress) -> String {
    use sha3::Digest as _;
    let lower = hex::encode(address.0);
    let hash = sha3::Keccak256::digest(lower.as_bytes());
    let mut text = String::with_capacity(42);
    text.push_str("0x");
    for (index, digit) in lower.chars().enumerate() {
        let byte = hash[index / 2];
        let nibble = if index % 2 == 0 {
            byte >> 4
        } else {
            byte & 0x0f
        };
        text.push(if nibble >= 8 {
            digit.to_ascii_uppercase()
        } else {
            digit
        });
    }
    text
}

/// Serde adapter for `ExecutionAddress` fields: written EIP-55 checksummed (as Lodestar does),
/// read in any case (the checksum is not enforced: servers differ).
pub mod checksummed_address {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::ExecutionAddress;

    /// Writes the checksummed address.
    pub fn serialize<S: Serializer>(
        address: &ExecutionAddress,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::to_checksum_address(address))
    }

    /// Reads hex of 20 bytes, any case.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ExecutionAddress, D::Error> {
        ExecutionAddress::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint256_decimal_round_trip() {
        for text in [
            "0",
            "1",
            "18446744073709551616",
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        ] {
            assert_eq!(Uint256::from_decimal(text).unwrap().to_decimal(), text);
        }
        assert!(Uint256::from_decimal(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        )
        .is_err());
        assert!(Uint256::from_decimal("-1").is_err());
        assert!(Uint256::from_decimal("").is_err());
    }

    #[test]
    fn byte_vector_root_matches_spec_padding() {
        // 48-byte pubkey: two chunks, hashed once.
        let mut key = ByteVector::<48>([7; 48]);
        let mut chunks = [[0u8; 32]; 2];
        chunks[0] = [7; 32];
        chunks[1][..16].copy_from_slice(&[7; 16]);
        assert_eq!(
            key.hash_tree_root().unwrap().as_ref(),
            hash_pair(&chunks[0], &chunks[1])
        );
    }

    #[test]
    fn eip55_known_answers() {
        // The EIP-55 examples.
        for text in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let address = ExecutionAddress::from_hex(&text.to_ascii_lowercase()).unwrap();
            assert_eq!(to_checksum_address(&address), text);
        }
    }

    #[test]
    fn zero_padded_merkleization_matches_the_full_tree() {
        // 5 chunks under a limit of 16 leaves, against the tree built in full.
        let chunks: Vec<[u8; 32]> = (1..=5u8).map(|i| [i; 32]).collect();
        let mut full = chunks.clone();
        full.resize(16, [0u8; 32]);
        while full.len() > 1 {
            full = full.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
        }
        assert_eq!(merkleize_chunks(chunks, 16), full[0]);
        // A transaction-sized limit neither allocates by limit nor takes long.
        let mut transaction = ByteList::<{ 1 << 30 }>::try_from(vec![1u8; 100]).unwrap();
        transaction.hash_tree_root().unwrap();
    }

    #[test]
    fn byte_list_root_of_large_limits_uses_zero_subtrees() {
        // 1 KiB limit = 32 leaves; an empty list is the zero subtree of depth 5, mixed with 0.
        let mut empty = ByteList::<1024>::default();
        let mut zero = [0u8; 32];
        for _ in 0..5 {
            zero = hash_pair(&zero, &zero);
        }
        assert_eq!(
            empty.hash_tree_root().unwrap().as_ref(),
            hash_pair(&zero, &[0u8; 32])
        );
    }
}
