//! Writes of one connection coalesced until the muxer reads again, so that a request and its
//! write-close leave in one packet.
//!
//! Why: multistream-select's `Negotiated::poll_close` flushes the data written so far *before*
//! the muxer's close frame is made, and the muxer flushes again after it. Each flush was a TCP
//! segment (or a WebSocket message) of its own. A responder that answers and forgets a stream as
//! soon as it has read the request (Lodestar on js-mplex) can finish between the two packets; our
//! CLOSE then arrives for a stream it no longer knows, and more than five such messages in a
//! second make js-mplex drop the connection.
//!
//! [`Coalesced`] sits between the transport and noise. Writes go into a bounded buffer; a flush only
//! marks the buffer as owed and wakes the task, and the owed bytes are written out the next time
//! the connection is read (the muxer reads on every poll of the connection) or written past the
//! bound, or on close. So every frame made in one poll of the connection leaves together, and
//! nothing waits longer than that poll.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use futures::ready;

/// Bytes kept before a write goes through to the transport.
const MAX_BUFFERED: usize = 64 * 1024;

/// A connection whose flushes are deferred to its next read (see the module docs).
#[derive(Debug)]
pub struct Coalesced<T> {
    inner: T,
    buffer: Vec<u8>,
    flush_owed: bool,
}

impl<T> Coalesced<T> {
    /// Wraps a transport's connection.
    pub fn new(inner: T) -> Self {
        Coalesced {
            inner,
            buffer: Vec::new(),
            flush_owed: false,
        }
    }
}

impl<T: AsyncWrite + Unpin> Coalesced<T> {
    /// Writes out the buffer and flushes the transport.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.buffer.is_empty() {
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buffer))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.buffer.drain(..written);
        }
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        self.flush_owed = false;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Coalesced<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.flush_owed {
            // Pending only means the transport cannot take it yet; it wakes us when it can.
            if let Poll::Ready(Err(error)) = this.poll_drain(cx) {
                return Poll::Ready(Err(error));
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalesced<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.buffer.len() >= MAX_BUFFERED {
            ready!(this.poll_drain(cx))?;
        }
        let taken = data.len().min(MAX_BUFFERED - this.buffer.len());
        this.buffer.extend_from_slice(&data[..taken]);
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.buffer.is_empty() && !self.flush_owed {
            // Owed to the next read of this connection, which the muxer makes in this same poll
            // of the connection or, once woken, the next. Woken once per owed flush only: while
            // the transport cannot take the bytes (a WebSocket still connecting), a wake on every
            // flush would spin the task, and in the browser starve the event loop that opens it.
            self.flush_owed = true;
            cx.waker().wake_by_ref();
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::{AsyncReadExt, AsyncWriteExt, Cursor};

    /// A transport that records each write it is given.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        input: Cursor<Vec<u8>>,
    }

    impl AsyncRead for Recorder {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.input).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes.push(data.to_vec());
            Poll::Ready(Ok(data.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn a_request_and_its_close_leave_in_one_write_at_the_next_read() {
        block_on(async {
            let mut connection = Coalesced::new(Recorder::default());
            connection.write_all(b"request").await.unwrap();
            connection.flush().await.unwrap();
            connection.write_all(b"close").await.unwrap();
            connection.flush().await.unwrap();
            assert!(
                connection.inner.writes.is_empty(),
                "nothing left before the read"
            );
            let mut byte = [0u8; 1];
            assert_eq!(connection.read(&mut byte).await.unwrap(), 0);
            assert_eq!(connection.inner.writes, vec![b"requestclose".to_vec()]);
        });
    }

    #[test]
    fn the_buffer_is_bounded_and_close_writes_everything() {
        block_on(async {
            let mut connection = Coalesced::new(Recorder::default());
            let big = vec![7u8; MAX_BUFFERED + 10];
            connection.write_all(&big).await.unwrap();
            assert_eq!(
                connection.inner.writes.len(),
                1,
                "the full buffer went through"
            );
            assert!(connection.buffer.len() <= MAX_BUFFERED);
            connection.close().await.unwrap();
            let total: usize = connection.inner.writes.iter().map(Vec::len).sum();
            assert_eq!(total, big.len());
        });
    }
}
