//! Text as UTF-8, whatever byte-order mark starts it: a UTF-8 one is dropped, a UTF-16 one (what
//! finance and operations writes for `CSV-Unicode` and often for its XML) is decoded, streaming.

use std::io::{self, Read};

use encoding_rs::{Decoder, UTF_16BE, UTF_16LE};

/// A reader giving UTF-8 bytes of text that may start with a byte-order mark.
pub struct Utf8Reader<R> {
    input: R,
    state: State,
    /// Bytes read ahead (the sniffed head, or raw bytes waiting to be decoded).
    pending: Vec<u8>,
    /// Decoded bytes not yet handed out.
    out: Vec<u8>,
    out_at: usize,
    done: bool,
}

enum State {
    Sniffing,
    Plain,
    Decoding(Box<Decoder>),
}

impl<R: Read> Utf8Reader<R> {
    pub fn new(input: R) -> Utf8Reader<R> {
        Utf8Reader {
            input,
            state: State::Sniffing,
            pending: Vec::new(),
            out: Vec::new(),
            out_at: 0,
            done: false,
        }
    }

    fn sniff(&mut self) -> io::Result<()> {
        let mut head = [0u8; 3];
        let mut got = 0;
        while got < 3 {
            match self.input.read(&mut head[got..])? {
                0 => break,
                n => got += n,
            }
        }
        let head = &head[..got];
        self.state = if head.starts_with(b"\xEF\xBB\xBF") {
            State::Plain
        } else if head.starts_with(b"\xFF\xFE") {
            self.pending.extend_from_slice(&head[2..]);
            State::Decoding(Box::new(UTF_16LE.new_decoder_without_bom_handling()))
        } else if head.starts_with(b"\xFE\xFF") {
            self.pending.extend_from_slice(&head[2..]);
            State::Decoding(Box::new(UTF_16BE.new_decoder_without_bom_handling()))
        } else {
            self.pending.extend_from_slice(head);
            State::Plain
        };
        Ok(())
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let State::Sniffing = self.state {
            self.sniff()?;
        }
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.state {
            State::Sniffing => Ok(0),
            State::Plain => {
                if !self.pending.is_empty() {
                    let n = self.pending.len().min(buf.len());
                    buf[..n].copy_from_slice(&self.pending[..n]);
                    self.pending.drain(..n);
                    return Ok(n);
                }
                self.input.read(buf)
            }
            State::Decoding(decoder) => loop {
                if self.out_at < self.out.len() {
                    let n = (self.out.len() - self.out_at).min(buf.len());
                    buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
                    self.out_at += n;
                    return Ok(n);
                }
                if self.done {
                    return Ok(0);
                }
                let mut raw = [0u8; 16 << 10];
                let n = self.input.read(&mut raw)?;
                self.pending.extend_from_slice(&raw[..n]);
                let last = n == 0;
                self.out.clear();
                self.out_at = 0;
                let capacity = decoder.max_utf8_buffer_length(self.pending.len()).unwrap_or(64 << 10);
                self.out.resize(capacity, 0);
                let (_, read, written, _) = decoder.decode_to_utf8(&self.pending, &mut self.out, last);
                self.pending.drain(..read);
                self.out.truncate(written);
                self.done = last;
            },
        }
    }
}
