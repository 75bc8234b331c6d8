//! A device's sync message, read by us before Automerge sees it.
//!
//! Automerge trusts its peer: a Bloom filter's probe count sizes an
//! allocation (and zero bits divide by zero), a compressed chunk is inflated
//! whole, counts are taken as given. A device is not trusted because it is
//! enrolled, so the server walks each of its messages first, with the
//! bounds an honest peer of a Lodge site keeps, and refuses one that breaks
//! them before any of it is decoded or inflated. The layout walked is
//! Automerge's (`sync.rs`, `storage/chunk.rs`, `storage/document.rs`).

use std::io::Read;

use super::refusal::{Counted, Measured, Refusal};

/// The bounds a device's sync messages are held to.
#[derive(Debug, Clone, Copy)]
pub struct MessageLimits {
    /// Hashes in `heads`, `need` or one `have`'s `last_sync`. An honest
    /// peer lists its heads (a few per document) and what it lacks.
    pub max_hashes: u64,
    /// `have` summaries (an honest peer sends one).
    pub max_haves: u64,
    /// Entries of one Bloom filter: one per change since the last sync.
    pub max_bloom_entries: u64,
    /// Chunks of changes in one message.
    pub max_chunks: u64,
    /// Columns of a document chunk (Automerge writes about twenty).
    pub max_columns: u64,
    /// What one message's changes may inflate to.
    pub max_inflated_message: u64,
}

/// The bounds for devices: generous for a year of one document's changes,
/// far below what would hurt the server.
pub const DEVICE_LIMITS: MessageLimits = MessageLimits {
    max_hashes: 1024,
    max_haves: 8,
    max_bloom_entries: 100_000,
    max_chunks: 10_000,
    max_columns: 64,
    max_inflated_message: 4 * 1024 * 1024,
};

/// The bounds a device holds its server's messages to: the server is
/// trusted with what it says, but a message that would take the device's
/// memory is refused all the same (a whole document of a busy site is a
/// few MB).
pub const SERVER_LIMITS: MessageLimits = MessageLimits {
    max_hashes: 65_536,
    max_haves: 64,
    max_bloom_entries: 1_000_000,
    max_chunks: 1_000_000,
    max_columns: 256,
    max_inflated_message: 256 * 1024 * 1024,
};

/// What all the messages of one frame from a device may inflate to.
pub const MAX_INFLATED_FRAME: u64 = 16 * 1024 * 1024;

/// Automerge's parameters for the filters it makes (10 bits per entry, 7
/// probes); anything far from them is no honest peer's.
const MAX_BITS_PER_ENTRY: u64 = 32;
const MAX_PROBES: u64 = 32;

const MESSAGE_V1: u8 = 0x42;
const MESSAGE_V2: u8 = 0x43;
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;
/// The column spec's bit that says its data is deflated.
const COLUMN_DEFLATE: u64 = 0b1000;
const HASH_BYTES: u64 = 32;

/// Check a sync message from a device against `limits`, before Automerge
/// decodes it. Returns how many bytes its changes inflate to (for a frame's
/// budget).
pub fn check_message(bytes: &[u8], limits: &MessageLimits) -> Result<u64, Refusal> {
    let mut r = Reader(bytes);
    match r.byte()? {
        MESSAGE_V1 | MESSAGE_V2 => {}
        other => return Err(malformed(format!("it starts with {other:#04x}, not a sync message's type"))),
    }
    r.hashes(limits)?; // heads
    r.hashes(limits)?; // need
    let haves = r.count(Counted::Haves, limits.max_haves)?;
    for _ in 0..haves {
        r.hashes(limits)?; // last_sync
        let bloom = r.prefixed()?;
        check_bloom(bloom, limits)?;
    }
    let chunks = r.count(Counted::Chunks, limits.max_chunks)?;
    let mut inflated = 0u64;
    for _ in 0..chunks {
        let entry = r.prefixed()?;
        inflated += inflated_size(entry, limits.max_inflated_message.saturating_sub(inflated), limits)?;
        if inflated > limits.max_inflated_message {
            return Err(Refusal::TooLarge { what: Measured::InflatedMessage, bytes: inflated, max: limits.max_inflated_message });
        }
    }
    // What follows is the flags, which Automerge reads byte by byte.
    Ok(inflated)
}

/// Check saved document bytes (a backup, a fixture: a run of chunks) the
/// same way, before Automerge loads them. Returns what they inflate to.
pub fn check_saved(bytes: &[u8], limits: &MessageLimits) -> Result<u64, Refusal> {
    let inflated = inflated_size(bytes, limits.max_inflated_message, limits)?;
    if inflated > limits.max_inflated_message {
        return Err(Refusal::TooLarge { what: Measured::InflatedMessage, bytes: inflated, max: limits.max_inflated_message });
    }
    Ok(inflated)
}

fn malformed(reason: impl Into<String>) -> Refusal {
    Refusal::Malformed { reason: reason.into() }
}

/// A Bloom filter: empty, or entries, bits per entry and probes, then
/// exactly the bits they call for (Automerge takes that many).
fn check_bloom(bytes: &[u8], limits: &MessageLimits) -> Result<(), Refusal> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut r = Reader(bytes);
    let entries = r.uleb()?;
    let bits_per_entry = r.uleb()?;
    let probes = r.uleb()?;
    let refused = Refusal::BloomFilter { entries, bits_per_entry, probes };
    if entries == 0 {
        // Never probed by Automerge.
        return Ok(());
    }
    if entries > limits.max_bloom_entries {
        return Err(Refusal::TooMany { what: Counted::BloomEntries, count: entries, max: limits.max_bloom_entries });
    }
    if !(1..=MAX_BITS_PER_ENTRY).contains(&bits_per_entry) || !(1..=MAX_PROBES).contains(&probes) {
        return Err(refused);
    }
    let needed = (entries * bits_per_entry).div_ceil(8);
    if (r.0.len() as u64) < needed {
        return Err(malformed("a Bloom filter is shorter than its parameters say"));
    }
    Ok(())
}

/// What one entry of a message's changes inflates to: a run of chunks, as
/// `load_incremental` reads them. Stops counting at `budget + 1`.
fn inflated_size(mut bytes: &[u8], budget: u64, limits: &MessageLimits) -> Result<u64, Refusal> {
    let mut total = 0u64;
    while !bytes.is_empty() {
        let mut r = Reader(bytes);
        if r.take(4)? != CHUNK_MAGIC {
            return Err(malformed("a chunk does not start with Automerge's magic bytes"));
        }
        r.take(4)?; // checksum
        let chunk_type = r.byte()?;
        let len = r.uleb()?;
        let data = r.take(len)?;
        let left = budget.saturating_sub(total);
        total += match chunk_type {
            CHUNK_CHANGE => len,
            CHUNK_COMPRESSED => inflate(data, left)?,
            CHUNK_DOCUMENT => document_size(data, left, limits)?,
            other => return Err(Refusal::ChunkType { chunk_type: other }),
        };
        bytes = r.0;
        if total > budget {
            break;
        }
    }
    Ok(total)
}

/// A document chunk's size with its deflated columns inflated: actors,
/// heads, the change and op columns' metadata, their data, the rest.
fn document_size(data: &[u8], budget: u64, limits: &MessageLimits) -> Result<u64, Refusal> {
    let mut r = Reader(data);
    let actors = r.count(Counted::Hashes, limits.max_hashes)?;
    for _ in 0..actors {
        r.prefixed()?;
    }
    r.hashes(limits)?;
    let mut columns = Vec::new();
    for _ in 0..2 {
        let n = r.count(Counted::Columns, limits.max_columns)?;
        for _ in 0..n {
            let spec = r.uleb()?;
            let len = r.uleb()?;
            columns.push((spec & COLUMN_DEFLATE != 0, len));
        }
    }
    let mut total = (data.len() - r.0.len()) as u64;
    for (deflated, len) in columns {
        let column = r.take(len)?;
        total += if deflated { inflate(column, budget.saturating_sub(total))? } else { len };
        if total > budget {
            return Ok(total);
        }
    }
    Ok(total + r.0.len() as u64)
}

/// How many bytes deflated `data` inflates to, reading at most `budget + 1`
/// of them: a bomb is measured only as far as the bound.
fn inflate(data: &[u8], budget: u64) -> Result<u64, Refusal> {
    let decoder = flate2::bufread::DeflateDecoder::new(data);
    std::io::copy(&mut decoder.take(budget.saturating_add(1)), &mut std::io::sink())
        .map_err(|_| malformed("a compressed chunk could not be inflated"))
}

/// A cursor over a message's bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Refusal> {
        Ok(self.take(1)?[0])
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], Refusal> {
        if n > self.0.len() as u64 {
            return Err(malformed("it is cut short"));
        }
        let (head, rest) = self.0.split_at(n as usize);
        self.0 = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, Refusal> {
        leb128::read::unsigned(&mut self.0).map_err(|_| malformed("a number in it could not be read"))
    }

    fn count(&mut self, what: Counted, max: u64) -> Result<u64, Refusal> {
        let count = self.uleb()?;
        if count > max {
            return Err(Refusal::TooMany { what, count, max });
        }
        Ok(count)
    }

    fn prefixed(&mut self) -> Result<&'a [u8], Refusal> {
        let len = self.uleb()?;
        self.take(len)
    }

    fn hashes(&mut self, limits: &MessageLimits) -> Result<(), Refusal> {
        let n = self.count(Counted::Hashes, limits.max_hashes)?;
        self.take(n * HASH_BYTES).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    fn uleb(out: &mut Vec<u8>, n: u64) {
        leb128::write::unsigned(out, n).unwrap();
    }

    /// A message with one `have` whose filter is `bloom`.
    fn message_with_bloom(bloom: &[u8]) -> Vec<u8> {
        let mut m = vec![MESSAGE_V1, 0, 0, 1, 0];
        uleb(&mut m, bloom.len() as u64);
        m.extend(bloom);
        m.push(0); // no changes
        m
    }

    fn honest_message(doc: &mut AutoCommit) -> Vec<u8> {
        let mut state = automerge::sync::State::new();
        doc.sync().generate_sync_message(&mut state).unwrap().encode()
    }

    #[test]
    fn honest_messages_pass() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "Anna Kowalska").unwrap();
        doc.commit();
        let first = honest_message(&mut doc);
        check_message(&first, &DEVICE_LIMITS).unwrap();
        // A message carrying the whole document (the reply to "I have nothing").
        let mut peer = AutoCommit::new();
        let mut theirs = automerge::sync::State::new();
        let mut ours = automerge::sync::State::new();
        for _ in 0..4 {
            if let Some(m) = doc.sync().generate_sync_message(&mut ours) {
                let bytes = m.encode();
                check_message(&bytes, &DEVICE_LIMITS).unwrap();
                peer.sync().receive_sync_message(&mut theirs, automerge::sync::Message::decode(&bytes).unwrap()).unwrap();
            }
            if let Some(m) = peer.sync().generate_sync_message(&mut theirs) {
                let bytes = m.encode();
                check_message(&bytes, &DEVICE_LIMITS).unwrap();
                doc.sync().receive_sync_message(&mut ours, automerge::sync::Message::decode(&bytes).unwrap()).unwrap();
            }
        }
        assert_eq!(peer.get_heads(), doc.get_heads());
    }

    #[test]
    fn a_filter_claiming_billions_of_probes_is_refused() {
        let mut bloom = Vec::new();
        uleb(&mut bloom, 1);
        uleb(&mut bloom, 10);
        uleb(&mut bloom, 2_000_000_000);
        bloom.extend([0xff, 0xff]);
        assert!(matches!(check_message(&message_with_bloom(&bloom), &DEVICE_LIMITS), Err(Refusal::BloomFilter { probes: 2_000_000_000, .. })));
    }

    #[test]
    fn a_filter_with_entries_and_no_bits_is_refused() {
        let mut bloom = Vec::new();
        uleb(&mut bloom, 5);
        uleb(&mut bloom, 0);
        uleb(&mut bloom, 7);
        assert!(matches!(check_message(&message_with_bloom(&bloom), &DEVICE_LIMITS), Err(Refusal::BloomFilter { bits_per_entry: 0, .. })));
    }

    #[test]
    fn a_deflate_bomb_is_measured_only_to_the_bound() {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..64 {
            enc.write_all(&zeros).unwrap();
        }
        let bomb = enc.finish().unwrap();
        assert!(bomb.len() < 100 * 1024);
        let mut chunk = CHUNK_MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, CHUNK_COMPRESSED]);
        uleb(&mut chunk, bomb.len() as u64);
        chunk.extend(&bomb);
        let mut m = vec![MESSAGE_V1, 0, 0, 0, 1];
        uleb(&mut m, chunk.len() as u64);
        m.extend(&chunk);
        match check_message(&m, &DEVICE_LIMITS) {
            Err(Refusal::TooLarge { what: Measured::InflatedMessage, bytes, max }) => assert_eq!(bytes, max + 1),
            other => panic!("not refused as too large: {other:?}"),
        }
    }

    #[test]
    fn counts_beyond_the_bounds_are_refused_before_reading_on() {
        let mut m = vec![MESSAGE_V1];
        uleb(&mut m, 1 << 40);
        assert!(matches!(check_message(&m, &DEVICE_LIMITS), Err(Refusal::TooMany { what: Counted::Hashes, .. })));
        let mut m = vec![MESSAGE_V1, 0, 0, 0];
        uleb(&mut m, 1 << 30);
        assert!(matches!(check_message(&m, &DEVICE_LIMITS), Err(Refusal::TooMany { what: Counted::Chunks, .. })));
        assert!(matches!(check_message(&[MESSAGE_V1, 3, 1], &DEVICE_LIMITS), Err(Refusal::Malformed { .. })));
        assert!(matches!(check_message(b"garbage", &DEVICE_LIMITS), Err(Refusal::Malformed { .. })));
        assert!(matches!(check_message(&[], &DEVICE_LIMITS), Err(Refusal::Malformed { .. })));
    }
}
