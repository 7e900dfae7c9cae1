//! Decoding cost of what a light client receives most: a full 128-update
//! `light_client_updates_by_range` response (mainnet preset, electra), framing + SSZ +
//! `hash_tree_root`, and the same split into its stages. Throughput is per update.
//!
//! Then a full mainnet electra `SignedBeaconBlock` (the largest synthnet block, filled up to
//! every body limit and ~4 MiB of transactions): SSZ decode + block root, and the transaction
//! list alone as our `ByteList` against ssz_rs's own `List<List<u8, 2^30>, 2^20>`.

// criterion is a native dev-dependency; the wasm32 lint pass still builds every target.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use beacon_p2p::chain::{Fork, Network, MAINNET_SYNC_COMMITTEE_SIZE as S};
    use beacon_p2p::types::LightClientUpdate;
    use beacon_p2p::wire::{encode_response_chunk, Protocol, ResponseReader, ResultCode};
    use criterion::{criterion_group, BatchSize, Criterion, Throughput};
    use futures::executor::block_on;

    const UPDATES: usize = 128;

    /// Real electra `LightClientUpdate`s from the conformance vectors, cycled to 128 chunks.
    fn response_stream() -> (beacon_p2p::chain::ChainConfig, Vec<u8>, Vec<Vec<u8>>) {
        let chain = Network::Mainnet.config();
        let context = chain.fork_digest(chain.activation(Fork::Electra).unwrap().epoch);
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/vectors/public/mainnet/electra/ssz_static/LightClientUpdate"
        );
        let payloads: Vec<Vec<u8>> = [
            "ssz_random/case_0",
            "ssz_random/case_1",
            "ssz_random/case_2",
        ]
        .iter()
        .map(|case| std::fs::read(format!("{dir}/{case}/serialized.ssz")).expect("vector present"))
        .collect();
        let mut stream = Vec::new();
        let mut chunks = Vec::new();
        for index in 0..UPDATES {
            let payload = &payloads[index % payloads.len()];
            stream.extend(encode_response_chunk(
                ResultCode::Success,
                Some(context),
                payload,
            ));
            chunks.push(payload.clone());
        }
        (chain, stream, chunks)
    }

    fn updates_by_range(c: &mut Criterion) {
        let (chain, stream, payloads) = response_stream();
        let mut group = c.benchmark_group("updates_by_range_128_mainnet_electra");
        group.throughput(Throughput::Elements(UPDATES as u64));
        group.sample_size(20);

        group.bench_function("full: framing + ssz + hash_tree_root", |b| {
            b.iter(|| {
                let chunks = block_on(
                    ResponseReader::new(
                        stream.as_slice(),
                        Protocol::LightClientUpdatesByRange,
                        &chain,
                        128,
                    )
                    .read_all(),
                )
                .unwrap();
                for chunk in &chunks {
                    let update =
                        LightClientUpdate::<S>::from_ssz(chunk.fork.unwrap(), &chunk.payload)
                            .unwrap();
                    std::hint::black_box(update.hash_tree_root());
                }
            })
        });

        group.bench_function("framing only (snappy frames, crc, bounds)", |b| {
            b.iter(|| {
                block_on(
                    ResponseReader::new(
                        stream.as_slice(),
                        Protocol::LightClientUpdatesByRange,
                        &chain,
                        128,
                    )
                    .read_all(),
                )
                .unwrap()
            })
        });

        group.bench_function("ssz decode only", |b| {
            b.iter(|| {
                for payload in &payloads {
                    std::hint::black_box(
                        LightClientUpdate::<S>::from_ssz(Fork::Electra, payload).unwrap(),
                    );
                }
            })
        });

        let decoded: Vec<_> = payloads
            .iter()
            .map(|payload| LightClientUpdate::<S>::from_ssz(Fork::Electra, payload).unwrap())
            .collect();
        group.bench_function("hash_tree_root only", |b| {
            b.iter_batched_ref(
                || decoded.clone(),
                |updates| {
                    for update in updates.iter() {
                        std::hint::black_box(update.hash_tree_root());
                    }
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }

    /// The largest synthnet block with every body list at (or near) its limit: 8 attestations
    /// of 131072 bits, a slashing of 2 x 2048 indices, 16 proposer slashings, deposits, exits
    /// and BLS changes, 4096 blob commitments, and 2000 transactions of 2 KiB.
    fn full_electra_block() -> Vec<u8> {
        use beacon_p2p::types::block::{self, mainnet};
        use ssz_rs::prelude::{Bitlist, List};

        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/synthnet/blocks/",
            "13148160_0x566d487e54840062b59797f748ac8b9d84086dbe8be42c1e4fe5e3d01a7b5adf.ssz"
        );
        let bytes = std::fs::read(path).expect("synthnet block present");
        let Ok(mainnet::SignedBeaconBlock::Electra(mut signed)) =
            mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &bytes)
        else {
            panic!("an electra block");
        };
        let body = &mut signed.message.body;
        fn full<T: ssz_rs::SimpleSerialize + Clone, const N: usize>(
            item: T,
            count: usize,
        ) -> List<T, N> {
            List::try_from(vec![item; count]).unwrap_or_else(|_| panic!("within the limit"))
        }
        let attestation = mainnet::electra::Attestation {
            aggregation_bits: Bitlist::try_from(
                vec![true; mainnet::MAX_ATTESTERS_PER_SLOT].as_slice(),
            )
            .unwrap(),
            ..Default::default()
        };
        body.attestations = full(attestation, block::MAX_ATTESTATIONS_ELECTRA);
        let indexed = mainnet::electra::IndexedAttestation {
            attesting_indices: List::try_from((0..2048u64).collect::<Vec<_>>()).unwrap(),
            ..Default::default()
        };
        body.attester_slashings = full(
            mainnet::electra::AttesterSlashing {
                attestation_1: indexed.clone(),
                attestation_2: indexed,
            },
            1,
        );
        body.proposer_slashings = full(Default::default(), block::MAX_PROPOSER_SLASHINGS);
        body.deposits = full(Default::default(), block::MAX_DEPOSITS);
        body.voluntary_exits = full(Default::default(), block::MAX_VOLUNTARY_EXITS);
        body.bls_to_execution_changes =
            full(Default::default(), block::MAX_BLS_TO_EXECUTION_CHANGES);
        body.blob_kzg_commitments = full(Default::default(), block::MAX_BLOB_COMMITMENTS_PER_BLOCK);
        let transactions: Vec<block::Transaction> = (0..2000u32)
            .map(|i| block::Transaction::try_from(vec![(i % 251) as u8; 2048]).unwrap())
            .collect();
        body.execution_payload.transactions = List::try_from(transactions).unwrap();
        mainnet::SignedBeaconBlock::Electra(signed).to_ssz()
    }

    fn full_block(c: &mut Criterion) {
        use beacon_p2p::types::block::mainnet;
        use ssz_rs::prelude::{Deserialize as _, List, Merkleized as _};

        let bytes = full_electra_block();
        let block = mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &bytes).unwrap();
        let mut group = c.benchmark_group("signed_beacon_block_mainnet_electra_full");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.sample_size(10);
        println!("full electra block: {} bytes", bytes.len());
        group.bench_function("ssz decode + block root", |b| {
            b.iter(|| {
                let block = mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &bytes).unwrap();
                std::hint::black_box(block.block_root())
            })
        });
        group.bench_function("ssz decode only", |b| {
            b.iter(|| mainnet::SignedBeaconBlock::from_ssz(Fork::Electra, &bytes).unwrap())
        });
        group.bench_function("block root only", |b| b.iter(|| block.block_root()));
        group.finish();

        // The transactions alone: ours (`ByteList`, zero-subtree padding) against ssz_rs's
        // generic `List<u8, _>` (byte-by-byte decode, ssz_rs's virtual padding).
        let mainnet::SignedBeaconBlock::Electra(inner) = &block else {
            unreachable!()
        };
        let transactions =
            ssz_rs::serialize(&inner.message.body.execution_payload.transactions).unwrap();
        let mut group = c.benchmark_group("transactions_2000x2KiB");
        group.throughput(Throughput::Bytes(transactions.len() as u64));
        group.sample_size(10);
        type Ours = List<beacon_p2p::types::block::Transaction, { 1 << 20 }>;
        type SszRs = List<List<u8, { 1 << 30 }>, { 1 << 20 }>;
        group.bench_function("ours: decode + hash_tree_root", |b| {
            b.iter(|| {
                Ours::deserialize(&transactions)
                    .unwrap()
                    .hash_tree_root()
                    .unwrap()
            })
        });
        group.bench_function("ssz_rs List<List<u8>>: decode + hash_tree_root", |b| {
            b.iter(|| {
                SszRs::deserialize(&transactions)
                    .unwrap()
                    .hash_tree_root()
                    .unwrap()
            })
        });
        let mut ours = Ours::deserialize(&transactions).unwrap();
        let mut theirs = SszRs::deserialize(&transactions).unwrap();
        assert_eq!(
            ours.hash_tree_root().unwrap(),
            theirs.hash_tree_root().unwrap()
        );
        group.finish();
    }

    criterion_group!(benches, updates_by_range, full_block);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
