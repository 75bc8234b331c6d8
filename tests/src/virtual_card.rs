//! A contactless badge card on the virtual reader of `vsmartcard-vpcd`:
//! `pcscd` loads vpcd, which listens on 127.0.0.1:35963 for a card; this
//! is that card. It answers the reader's power and ATR requests and the
//! "get UID" APDU (`FF CA 00 00 00`) with its UID. Putting it on the reader
//! is connecting; taking it off is closing the connection. (vpcd's own
//! `vicc` speaks the same protocol; this one needs no Python.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

/// The first virtual reader's card port.
pub const VPCD_PORT: u16 = 35963;

// A PC/SC part 3 ATR of a contactless storage card (MIFARE Classic 1K).
const ATR: [u8; 20] = [0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x6A];

/// A card lying on the reader.
pub struct VirtualCard {
    stream: TcpStream,
    thread: Option<JoinHandle<()>>,
}

impl VirtualCard {
    /// Put a card with this UID on the reader.
    pub fn tap(uid: &[u8]) -> anyhow::Result<Self> {
        let start = Instant::now();
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", VPCD_PORT)) {
                Ok(s) => break s,
                Err(e) if start.elapsed() < Duration::from_secs(10) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e).context("vpcd is not listening on 127.0.0.1:35963: is pcscd running with vsmartcard-vpcd?"),
            }
        };
        let mut reader = stream.try_clone()?;
        let uid = uid.to_vec();
        let thread = std::thread::spawn(move || {
            while let Ok(message) = receive(&mut reader) {
                let answer: Option<Vec<u8>> = match message.as_slice() {
                    [4] => Some(ATR.to_vec()),
                    [0] | [1] | [2] => None,
                    [0xFF, 0xCA, 0x00, 0x00, ..] => Some([uid.as_slice(), &[0x90, 0x00]].concat()),
                    _ => Some(vec![0x6D, 0x00]),
                };
                if let Some(a) = answer
                    && send(&mut reader, &a).is_err()
                {
                    return;
                }
            }
        });
        Ok(Self { stream, thread: Some(thread) })
    }

    /// Take the card off the reader.
    pub fn remove(mut self) {
        self.take_off();
    }

    fn take_off(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.take_off();
    }
}

fn receive(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut body)?;
    Ok(body)
}

fn send(s: &mut TcpStream, body: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes();
    s.write_all(&[&len[..], body].concat())
}
