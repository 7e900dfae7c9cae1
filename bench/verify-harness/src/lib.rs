//! The verification workload of `bench/parts/verify.sh`, written once and run natively (the
//! `bench-verify` binary) and as wasm in Chromium (the `#[wasm_bindgen]` exports below): a
//! capture directory replayed through beacon-p2p's light-client store in the order
//! `tests/peer/lodestar-sync.mjs` replays it through Lodestar's (bootstrap, per-period updates
//! in period order, then `arrivals.json`), each object at its signature slot + 1.
//!
//! Objects are decoded from their Beacon-API JSON before the clock starts; what is timed is one
//! `LightClientStore::process` call (which reads the object's SSZ into the store's view: a few
//! microseconds next to the signature check).

use beacon_p2p::chain::ChainConfig;
use beacon_p2p::primitives::{Root, Slot};
use beacon_p2p::types::{LightClientKind, LightClientObject};
use beacon_p2p::verify::{LightClientStore, Verdict};
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// What one `process` call made of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `accepted`, `ignored` or `rejected` (`Verdict::name`).
    pub verdict: &'static str,
    /// The error's code when not accepted.
    pub reason: Option<&'static str>,
    /// Whether the object passed every check, the signature included (the calls whose time
    /// is comparable with Lodestar's calls that did not throw).
    pub verified: bool,
}

/// A capture loaded for replay: the network, the checkpoint and its bootstrap, the objects in
/// replay order, and the store (fresh after `reset`).
pub struct Replay {
    chain: ChainConfig,
    checkpoint: Root,
    bootstrap: LightClientObject,
    objects: Vec<LightClientObject>,
    store: Option<LightClientStore>,
}

/// `kind` as the capture directories and `lodestar-sync.mjs` name it.
pub fn kind_of(name: &str) -> Result<LightClientKind, String> {
    Ok(match name {
        "bootstrap" => LightClientKind::Bootstrap,
        "update" => LightClientKind::Update,
        "finality_update" => LightClientKind::FinalityUpdate,
        "optimistic_update" => LightClientKind::OptimisticUpdate,
        other => return Err(format!("unknown kind {other:?}")),
    })
}

fn decode(
    chain: &ChainConfig,
    kind: LightClientKind,
    json: &str,
) -> Result<LightClientObject, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("{kind:?}: {e}"))?;
    // A per-period update file holds the `updates` route's array (of one, in these captures).
    let value = match value {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        Value::Array(items) => {
            return Err(format!("{kind:?}: an array of {} objects", items.len()))
        }
        single => single,
    };
    LightClientObject::from_beacon_api_json(kind, chain.preset, &value)
        .map_err(|e| format!("{kind:?}: {e}"))
}

impl Replay {
    /// The network from `config_yaml` and `genesis_validators_root`, the checkpoint and its
    /// bootstrap's Beacon-API JSON.
    pub fn new(
        config_yaml: &str,
        genesis_validators_root: &str,
        checkpoint: &str,
        bootstrap_json: &str,
    ) -> Result<Self, String> {
        let root = |hex: &str, what: &str| Root::from_hex(hex).map_err(|e| format!("{what}: {e}"));
        let chain = ChainConfig::from_config_yaml(
            config_yaml,
            root(genesis_validators_root, "genesis_validators_root")?,
        )
        .map_err(|e| e.to_string())?;
        let bootstrap = decode(&chain, LightClientKind::Bootstrap, bootstrap_json)?;
        Ok(Replay {
            chain,
            checkpoint: root(checkpoint, "checkpoint")?,
            bootstrap,
            objects: Vec::new(),
            store: None,
        })
    }

    /// Appends an object (`kind` as in `kind_of`) to the replay.
    pub fn push(&mut self, kind: &str, json: &str) -> Result<(), String> {
        let object = decode(&self.chain, kind_of(kind)?, json)?;
        self.objects.push(object);
        Ok(())
    }

    /// A fresh store from the bootstrap (`initialize_light_client_store`).
    pub fn reset(&mut self) -> Result<(), String> {
        let store =
            LightClientStore::initialize(self.chain.clone(), &self.checkpoint, &self.bootstrap)
                .map_err(|e| format!("bootstrap: {e}"))?;
        self.store = Some(store);
        Ok(())
    }

    /// Processes object `index` at its signature slot + 1.
    pub fn process(&mut self, index: usize) -> Result<Outcome, String> {
        let object = self
            .objects
            .get(index)
            .ok_or_else(|| format!("no object {index}"))?;
        let store = self.store.as_mut().ok_or("reset() first")?;
        let current_slot = object.signature_slot.unwrap_or(object.slot) + 1;
        let result = store.process(object, current_slot);
        let verdict = Verdict::of(&result);
        Ok(Outcome {
            verdict: verdict.name(),
            reason: result.as_ref().err().map(|e| e.code()),
            verified: result.is_ok(),
        })
    }

    /// The store's finalized and optimistic slots.
    pub fn heads(&self) -> Option<(Slot, Slot)> {
        self.store
            .as_ref()
            .map(|store| (store.finalized_slot(), store.optimistic_slot()))
    }
}

/// The wasm entry points: the page decodes nothing itself, it hands over the files' text.
#[wasm_bindgen(js_name = Replay)]
pub struct WasmReplay(Replay);

#[wasm_bindgen(js_class = Replay)]
impl WasmReplay {
    #[wasm_bindgen(constructor)]
    pub fn new(
        config_yaml: &str,
        genesis_validators_root: &str,
        checkpoint: &str,
        bootstrap_json: &str,
    ) -> Result<WasmReplay, JsError> {
        Replay::new(
            config_yaml,
            genesis_validators_root,
            checkpoint,
            bootstrap_json,
        )
        .map(WasmReplay)
        .map_err(|e| JsError::new(&e))
    }

    pub fn push(&mut self, kind: &str, json: &str) -> Result<(), JsError> {
        self.0.push(kind, json).map_err(|e| JsError::new(&e))
    }

    pub fn reset(&mut self) -> Result<(), JsError> {
        self.0.reset().map_err(|e| JsError::new(&e))
    }

    /// `"accepted"`, `"ignored:<code>"` or `"rejected:<code>"`; a `+` in front when the object
    /// passed every check (signature included).
    pub fn process(&mut self, index: usize) -> Result<String, JsError> {
        let outcome = self.0.process(index).map_err(|e| JsError::new(&e))?;
        Ok(format!(
            "{}{}{}",
            if outcome.verified { "+" } else { "" },
            outcome.verdict,
            outcome.reason.map(|r| format!(":{r}")).unwrap_or_default()
        ))
    }

    /// `[finalized slot, optimistic slot]`.
    pub fn heads(&self) -> Vec<f64> {
        self.0
            .heads()
            .map(|(f, o)| vec![f as f64, o as f64])
            .unwrap_or_default()
    }
}
