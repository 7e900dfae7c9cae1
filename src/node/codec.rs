//! The req/resp codec for libp2p's request-response behaviour: our wire framing, one stream per
//! request. A response is every chunk until the responder closes the stream; framing errors are
//! returned as values so the peer manager can tell bad data from a broken connection.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use libp2p::core::upgrade::NegotiationError;
use ssz_rs::Serialize as _;

use crate::chain::ChainConfig;
use crate::types::{StatusV1, StatusV2};
use crate::wire::{
    encode_request, encode_response_chunk, read_request, Protocol, ResponseChunk, ResponseReader,
    WireError,
};

/// A request, outbound or inbound.
#[derive(Debug, Clone)]
pub enum EthRequest {
    /// An SSZ payload: ours to send as-is, or a peer's with the protocol it came on.
    Payload {
        /// The negotiated protocol (inbound requests only).
        protocol: Option<Protocol>,
        /// The SSZ payload (empty for protocols without a body).
        ssz: Vec<u8>,
    },
    /// Our Status, encoded as v1 or v2 depending on what the peer negotiates.
    Status(StatusV2),
}

impl EthRequest {
    /// An outbound request with this payload.
    pub fn payload(ssz: Vec<u8>) -> Self {
        EthRequest::Payload {
            protocol: None,
            ssz,
        }
    }
}

/// A response: the protocol it came on and its chunks, or why its bytes were rejected.
#[derive(Debug, Clone)]
pub struct EthResponse {
    /// The negotiated protocol.
    pub protocol: Protocol,
    /// The chunks, or the framing error.
    pub chunks: Result<Vec<ResponseChunk>, WireError>,
}

/// The `ssz_snappy` codec, bound to one network (context bytes → fork → SSZ bounds).
#[derive(Clone)]
pub struct EthCodec {
    chain: Arc<ChainConfig>,
}

impl EthCodec {
    /// A codec for `chain`.
    pub fn new(chain: Arc<ChainConfig>) -> Self {
        EthCodec { chain }
    }
}

/// The error `read_response` returns when the peer refused the protocol: with lazy negotiation
/// (see `transport`), the refusal arrives where the response should be.
fn protocol_refused() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, NegotiationError::Failed)
}

/// Whether a request failed because the peer does not speak its protocol, however the refusal
/// arrived (during negotiation, or lazily in place of the response).
pub fn is_protocol_refusal(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::Unsupported
        && error
            .get_ref()
            .is_some_and(|inner| inner.is::<NegotiationError>())
}

/// Notes whether reading failed because the peer refused the protocol we proposed.
struct NegotiationWatch<'a, T> {
    io: &'a mut T,
    refused: bool,
}

impl<T: AsyncRead + Unpin> AsyncRead for NegotiationWatch<'_, T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut *self.io).poll_read(cx, buf);
        if let Poll::Ready(Err(error)) = &polled {
            if error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<NegotiationError>())
                .is_some_and(|inner| matches!(inner, NegotiationError::Failed))
            {
                self.refused = true;
            }
        }
        polled
    }
}

fn encode_status(protocol: Protocol, status: &StatusV2) -> Vec<u8> {
    let mut ssz = Vec::with_capacity(92);
    let written = if protocol == Protocol::StatusV1 {
        StatusV1 {
            fork_digest: status.fork_digest,
            finalized_root: status.finalized_root,
            finalized_epoch: status.finalized_epoch,
            head_root: status.head_root,
            head_slot: status.head_slot,
        }
        .serialize(&mut ssz)
    } else {
        status.serialize(&mut ssz)
    };
    written.expect("Status always serializes");
    ssz
}

/// Our Status as the payload of `protocol` (v1 drops `earliest_available_slot`).
pub fn status_payload(protocol: Protocol, status: &StatusV2) -> Vec<u8> {
    encode_status(protocol, status)
}

impl libp2p::request_response::Codec for EthCodec {
    type Protocol = Protocol;
    type Request = EthRequest;
    type Response = EthResponse;

    async fn read_request<T>(&mut self, protocol: &Protocol, io: &mut T) -> io::Result<EthRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let ssz = read_request(io, *protocol)
            .await
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        Ok(EthRequest::Payload {
            protocol: Some(*protocol),
            ssz,
        })
    }

    async fn read_response<T>(&mut self, protocol: &Protocol, io: &mut T) -> io::Result<EthResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut io = NegotiationWatch { io, refused: false };
        let reader = ResponseReader::new(
            &mut io,
            *protocol,
            &self.chain,
            protocol.max_response_chunks(),
        );
        let chunks = reader.read_all().await;
        if io.refused {
            return Err(protocol_refused());
        }
        Ok(EthResponse {
            protocol: *protocol,
            chunks,
        })
    }

    async fn write_request<T>(
        &mut self,
        protocol: &Protocol,
        io: &mut T,
        request: EthRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let ssz = match request {
            EthRequest::Payload { ssz, .. } => ssz,
            EthRequest::Status(status) => encode_status(*protocol, &status),
        };
        if protocol.request_type().is_some() {
            io.write_all(&encode_request(&ssz)).await?;
        }
        Ok(())
    }

    async fn write_response<T>(
        &mut self,
        _: &Protocol,
        io: &mut T,
        response: EthResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        // We only answer with chunks we built ourselves.
        for chunk in response.chunks.unwrap_or_default() {
            io.write_all(&encode_response_chunk(
                chunk.result,
                chunk.context,
                &chunk.payload,
            ))
            .await?;
        }
        Ok(())
    }
}
