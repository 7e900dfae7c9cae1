//! Decoding cost of what a light client receives most: a full 128-update
//! `light_client_updates_by_range` response (mainnet preset, electra), framing + SSZ +
//! `hash_tree_root`, and the same split into its stages. Throughput is per update.

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

    criterion_group!(benches, updates_by_range);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
