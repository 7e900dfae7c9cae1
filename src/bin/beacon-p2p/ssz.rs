//! `beacon-p2p ssz`: decode SSZ values, req/resp streams and gossip messages to Beacon-API JSON.

use beacon_p2p::chain::{Fork, Preset};
use beacon_p2p::types::{decode_named, ssz_bounds_named, DecodedValue, SszTypeName};
use beacon_p2p::wire::{gossip, read_request, GossipTopic, Protocol, ResponseReader, ResultCode};
use clap::Subcommand;
use futures::executor::block_on;
use serde_json::{json, Value};

use crate::cli::{read_input, CliError, NetworkArgs};

#[derive(Debug, Subcommand)]
pub enum SszCommand {
    /// Decode one SSZ value; print its Beacon-API JSON and hash_tree_root.
    Decode {
        /// Type name as the specs spell it: LightClientUpdate, StatusV1, MetaDataV3, ENRForkID, …
        #[arg(long = "type", value_name = "TYPE")]
        type_name: SszTypeName,
        /// Fork of the light-client container (ignored by the p2p types).
        #[arg(long, default_value = "deneb")]
        fork: Fork,
        /// Preset (sync committee size): mainnet or minimal.
        #[arg(long, default_value = "mainnet")]
        preset: Preset,
        /// Input file, or - for stdin.
        input: String,
    },
    /// Decode a req/resp stream; print one JSON line per response chunk (or the request).
    DecodeStream {
        /// Protocol: its name (light_client_bootstrap, status/2, …) or full protocol id.
        #[arg(long)]
        protocol: Protocol,
        /// The stream is a request, not a response.
        #[arg(long)]
        request: bool,
        #[command(flatten)]
        network: NetworkArgs,
        /// Input file, or - for stdin.
        input: String,
    },
    /// Decode a gossip message's data; print its message-id, fork and value.
    Gossip {
        /// The topic, /eth2/<fork digest>/<name>/ssz_snappy.
        #[arg(long)]
        topic: String,
        #[command(flatten)]
        network: NetworkArgs,
        /// Input file (the message's data, snappy block format), or - for stdin.
        input: String,
    },
}

pub fn run(command: SszCommand) -> Result<(), CliError> {
    match command {
        SszCommand::Decode {
            type_name,
            fork,
            preset,
            input,
        } => {
            let bytes = read_input(&input)?;
            let decoded = decode_named(type_name, fork, preset, &bytes)
                .map_err(|error| CliError::Invalid(format!("{input}: {error}")))?;
            let mut out = json!({
                "type": type_name.name(),
                "hash_tree_root": decoded.root.to_hex(),
                "ssz_length": bytes.len(),
                "value": decoded.json,
            });
            if let Some(fork) = decoded.fork {
                out["fork"] = json!(fork.name());
            }
            print_json(&out, true)?;
            Ok(())
        }
        SszCommand::DecodeStream {
            protocol,
            request,
            network,
            input,
        } => {
            let chain = network.chain()?;
            let bytes = read_input(&input)?;
            let invalid =
                |error: &dyn std::fmt::Display| CliError::Invalid(format!("{input}: {error}"));
            if request {
                let payload =
                    block_on(read_request(bytes.as_slice(), protocol)).map_err(|e| invalid(&e))?;
                let line = match protocol.request_type() {
                    None => json!({ "protocol": protocol.protocol_id(), "data": null }),
                    Some(type_name) => {
                        let decoded = decode_named(type_name, Fork::Phase0, chain.preset, &payload)
                            .map_err(|e| invalid(&e))?;
                        json!({
                            "protocol": protocol.protocol_id(),
                            "type": type_name.name(),
                            "root": decoded.root.to_hex(),
                            "data": decoded.json,
                        })
                    }
                };
                print_json(&line, false)?;
                return Ok(());
            }
            let mut reader = ResponseReader::new(bytes.as_slice(), protocol, &chain, u64::MAX);
            // Print each chunk as it is read, so a bad chunk still shows the good ones before it.
            while let Some(chunk) = block_on(reader.next_chunk()).map_err(|e| invalid(&e))? {
                let line = if chunk.result == ResultCode::Success {
                    let fork = chunk.fork.unwrap_or(Fork::Phase0);
                    let decoded =
                        decode_named(protocol.response_type(), fork, chain.preset, &chunk.payload)
                            .map_err(|e| invalid(&e))?;
                    let mut line = json!({
                        "result": chunk.result.byte(),
                        "type": protocol.response_type().name(),
                        "root": decoded.root.to_hex(),
                        "data": decoded.json,
                    });
                    if let (Some(fork), Some(context)) = (chunk.fork, chunk.context) {
                        line["fork"] = json!(fork.name());
                        line["context_bytes"] = json!(context.to_hex());
                    }
                    line
                } else {
                    let decoded = decode_named(
                        SszTypeName::ErrorMessage,
                        Fork::Phase0,
                        chain.preset,
                        &chunk.payload,
                    )
                    .map_err(|e| invalid(&e))?;
                    json!({
                        "result": chunk.result.byte(),
                        "type": "ErrorMessage",
                        "root": decoded.root.to_hex(),
                        "error": chunk.error_message(),
                        "data": decoded.json,
                    })
                };
                print_json(&line, false)?;
            }
            Ok(())
        }
        SszCommand::Gossip {
            topic,
            network,
            input,
        } => {
            let chain = network.chain()?;
            let data = read_input(&input)?;
            let message_id = format!("0x{}", hex::encode(gossip::message_id(&topic, &data)));
            let invalid = |error: &dyn std::fmt::Display| {
                CliError::Invalid(format!("{input}: {error} (message-id {message_id})"))
            };
            let parsed: GossipTopic = topic.parse().map_err(|e| invalid(&e))?;
            let fork = chain
                .fork_for_digest(&parsed.fork_digest)
                .filter(|fork| fork.has_light_client())
                .ok_or_else(|| {
                    invalid(&format!(
                        "topic digest {} names no light-client fork of {}",
                        parsed.fork_digest, chain.name
                    ))
                })?;
            let type_name = match parsed.kind {
                gossip::GossipKind::LightClientFinalityUpdate => {
                    SszTypeName::LightClientFinalityUpdate
                }
                gossip::GossipKind::LightClientOptimisticUpdate => {
                    SszTypeName::LightClientOptimisticUpdate
                }
            };
            let (_, max) =
                ssz_bounds_named(type_name, fork, chain.preset).map_err(|e| invalid(&e))?;
            let payload = gossip::decode_payload(&data, max).map_err(|e| invalid(&e))?;
            let DecodedValue {
                root, json: value, ..
            } = decode_named(type_name, fork, chain.preset, &payload).map_err(|e| invalid(&e))?;
            print_json(
                &json!({
                    "message_id": message_id,
                    "topic": topic,
                    "fork": fork.name(),
                    "type": type_name.name(),
                    "root": root.to_hex(),
                    "value": value,
                }),
                true,
            )?;
            Ok(())
        }
    }
}

fn print_json(value: &Value, pretty: bool) -> Result<(), CliError> {
    use std::io::Write;

    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    let text = text.expect("JSON values always serialize");
    writeln!(std::io::stdout().lock(), "{text}").map_err(CliError::Output)
}
