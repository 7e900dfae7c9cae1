//! Argument definitions shared by the subcommands.

use std::io::Read;
use std::path::PathBuf;

use beacon_p2p::chain::{ChainConfig, ChainError, Clock, Network};
use beacon_p2p::primitives::Root;
use clap::{Args, Parser, Subcommand};

use crate::bridge::{self, BridgeArgs};
use crate::fetch::{self, FetchArgs};
use crate::ssz::{self, SszCommand};
use crate::verify::{self, VerifyArgs};

/// Ethereum consensus-layer light-client data from beacon-chain peers.
#[derive(Debug, Parser)]
#[command(name = "beacon-p2p", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode consensus wire data: SSZ values, req/resp streams, gossip messages.
    #[command(subcommand)]
    Ssz(SszCommand),
    /// Fetch light-client data from consensus peers; print it as the Beacon API does.
    Fetch(FetchArgs),
    /// Run the bridge: discv5, the restricted WebSocket relay, Beacon-API routes over p2p.
    Bridge(BridgeArgs),
    /// Replay a capture directory offline through the light-client store: per object, accepted,
    /// ignored or rejected, and why.
    Verify(VerifyArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Ssz(command) => ssz::run(command),
        Command::Fetch(args) => fetch::run(args),
        Command::Bridge(args) => bridge::run(args),
        Command::Verify(args) => verify::run(args),
    }
}

/// Which network's fork schedule and genesis to use.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// A built-in network: mainnet, sepolia, holesky or hoodi.
    #[arg(long, default_value = "mainnet", conflicts_with = "testnet_dir")]
    pub network: String,
    /// A network-config directory (config.yaml, genesis.ssz, optional boot_enr.yaml).
    #[arg(long, value_name = "DIR")]
    pub testnet_dir: Option<PathBuf>,
    /// Use this genesis validators root instead of the network's (0x-hex, 32 bytes).
    #[arg(long, value_name = "0x…")]
    pub genesis_validators_root: Option<String>,
}

impl NetworkArgs {
    /// The chain configuration these arguments name.
    pub fn chain(&self) -> Result<ChainConfig, CliError> {
        let mut chain = match &self.testnet_dir {
            Some(dir) => ChainConfig::from_directory(dir)?,
            None => self.network.parse::<Network>()?.config(),
        };
        if let Some(root) = &self.genesis_validators_root {
            chain.genesis_validators_root = Root::from_hex(root)
                .map_err(|error| CliError::Usage(format!("--genesis-validators-root: {error}")))?;
        }
        Ok(chain)
    }
}

/// The clock chain time (current epoch: gossip topics, Status, ENR) is read from. Recorded data
/// is signed for slots in the past; shifting the clock makes those slots "now".
#[derive(Debug, Clone, Args)]
pub struct ClockArgs {
    /// Shift the clock chain time is read from by this many milliseconds (negative: the past).
    #[arg(
        long,
        value_name = "MS",
        allow_hyphen_values = true,
        conflicts_with = "clock_start"
    )]
    pub clock_offset_ms: Option<i64>,
    /// Start the clock at this unix time (seconds) now; it then runs in real time.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub clock_start: Option<u64>,
}

impl ClockArgs {
    /// The clock these arguments name (the wall clock without either flag).
    pub fn clock(&self) -> Result<Clock, CliError> {
        match (self.clock_offset_ms, self.clock_start) {
            (Some(offset), _) => Ok(Clock::with_offset_ms(offset)),
            (None, Some(start)) => {
                let start_ms = start.checked_mul(1000).ok_or_else(|| {
                    CliError::Usage(format!("--clock-start {start}: too far in the future"))
                })?;
                Ok(Clock::starting_at_unix_ms(start_ms))
            }
            (None, None) => Ok(Clock::SYSTEM),
        }
    }
}

/// Beacon-API sources beside the peers (`fetch`, `bridge`).
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// A Beacon-API source (`http://host:5052`, repeatable): asked beside the peers under
    /// --source-policy; with verification on, its answers are checked like a peer's.
    #[arg(long = "rpc", value_name = "URL")]
    pub rpc: Vec<String>,
    /// Which kind of source a call asks first: p2p-first, rpc-first or race.
    #[arg(long, value_name = "POLICY", default_value = "p2p-first")]
    pub source_policy: beacon_p2p::client::SourcePolicy,
    /// How long a call waits for the first kind of source before it asks the other too.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub p2p_budget_ms: u64,
}

impl SourceArgs {
    /// Sets the sources and their policy in `config`.
    pub fn apply(&self, config: &mut beacon_p2p::client::Config) {
        config.rpc = self.rpc.clone();
        config.source_policy = self.source_policy;
        config.p2p_budget = std::time::Duration::from_millis(self.p2p_budget_ms);
    }
}

/// Anything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// An input file could not be read.
    #[error("cannot read {path}: {source}")]
    Input {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The chain configuration could not be loaded.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The input is not what it should be.
    #[error("{0}")]
    Invalid(String),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(std::io::Error),
}

/// Largest input the decoders accept (a full `updates_by_range` response is ~3.5 MB).
const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// Reads a file, or stdin for `-`, refusing more than `MAX_INPUT` bytes.
pub fn read_input(path: &str) -> Result<Vec<u8>, CliError> {
    let input_error = |source| CliError::Input {
        path: path.to_string(),
        source,
    };
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut bytes)
            .map_err(input_error)?;
    } else {
        std::fs::File::open(path)
            .map_err(input_error)?
            .take(MAX_INPUT + 1)
            .read_to_end(&mut bytes)
            .map_err(input_error)?;
    }
    if bytes.len() as u64 > MAX_INPUT {
        return Err(CliError::Invalid(format!(
            "{path}: input larger than {MAX_INPUT} bytes"
        )));
    }
    Ok(bytes)
}

/// Prints one compact JSON value on its own line.
pub fn print_json_line(value: &serde_json::Value) -> Result<(), CliError> {
    use std::io::Write;

    let text = serde_json::to_string(value).expect("JSON values always serialize");
    writeln!(std::io::stdout().lock(), "{text}").map_err(CliError::Output)
}
