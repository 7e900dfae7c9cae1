//! What verification costs natively, on synthnet (mainnet preset, 512-key committees):
//! decompressing one committee's keys (once per period), `FastAggregateVerify` of a finality
//! update with the keys already decompressed (every update after that), and a whole period
//! update as the store processes it (branches, signature, the next committee's root).

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use beacon_p2p::chain::{Network, Preset};
    use beacon_p2p::primitives::Root;
    use beacon_p2p::types::{LightClientKind, LightClientObject, SyncCommittee};
    use beacon_p2p::verify::bls::CommitteeKeys;
    use beacon_p2p::verify::LightClientStore;
    use criterion::{criterion_group, BatchSize, Criterion};
    use serde_json::Value;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/synthnet");
    const CHECKPOINT: &str = "0x566d487e54840062b59797f748ac8b9d84086dbe8be42c1e4fe5e3d01a7b5adf";

    fn object(kind: LightClientKind, path: &str) -> LightClientObject {
        let value: Value =
            serde_json::from_slice(&std::fs::read(format!("{DIR}/{path}")).unwrap()).unwrap();
        let value = match value {
            Value::Array(mut items) => items.remove(0),
            single => single,
        };
        LightClientObject::from_beacon_api_json(kind, Preset::Mainnet, &value).unwrap()
    }

    fn store() -> LightClientStore {
        let bootstrap = object(
            LightClientKind::Bootstrap,
            &format!("bootstrap/13148160_{CHECKPOINT}.json"),
        );
        LightClientStore::initialize(
            Network::Mainnet.config(),
            &Root::from_hex(CHECKPOINT).unwrap(),
            &bootstrap,
        )
        .unwrap()
    }

    fn verification(c: &mut Criterion) {
        let mut group = c.benchmark_group("verify");
        group.sample_size(20);

        let bootstrap: Value = serde_json::from_slice(
            &std::fs::read(format!("{DIR}/bootstrap/13148160_{CHECKPOINT}.json")).unwrap(),
        )
        .unwrap();
        let committee: SyncCommittee<512> =
            serde_json::from_value(bootstrap["data"]["current_sync_committee"].clone()).unwrap();
        group.bench_function("decompress a 512-key committee (once per period)", |b| {
            b.iter(|| CommitteeKeys::new(&committee.pubkeys))
        });

        // The store at the newest period, its committees' keys already decompressed.
        let mut synced = store();
        for period in 1605..=1613 {
            let update = object(
                LightClientKind::Update,
                &format!("updates/period_{period}.json"),
            );
            synced
                .process(&update, update.signature_slot.unwrap() + 1)
                .unwrap();
        }
        let finality = object(
            LightClientKind::FinalityUpdate,
            "finality_update/13221883_20d7fc03.json",
        );
        let now = finality.signature_slot.unwrap() + 1;
        synced.validate(&finality, now).unwrap();
        group.bench_function("finality update (keys decompressed)", |b| {
            b.iter(|| synced.validate(&finality, now).unwrap())
        });

        let first = object(LightClientKind::Update, "updates/period_1605.json");
        let at = first.signature_slot.unwrap() + 1;
        group.bench_function(
            "first period update from a fresh store (decompresses the current committee)",
            |b| {
                b.iter_batched(
                    store,
                    |mut fresh| fresh.process(&first, at).unwrap(),
                    BatchSize::LargeInput,
                )
            },
        );
        group.finish();
    }

    criterion_group!(benches, verification);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
