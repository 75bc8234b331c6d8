//! Checks a store file before SQLite touches it, so that a file cut short or
//! filled with garbage is refused whole instead of half-read.

use std::io::Read;
use std::path::Path;

use super::Error;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// `Ok(true)` if a plausible store exists, `Ok(false)` if there is no file
/// (or an empty one) and a new store may be created there.
pub(super) fn check(path: &Path) -> Result<bool, Error> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(Error::open(path, rusqlite::Error::InvalidPath(format!("{}: {e}", path.display()).into())));
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(false);
    }
    let mut header = [0u8; 100];
    if len < 100 || file.read_exact(&mut header).is_err() {
        return Err(if len >= 16 && starts_with_magic(path) {
            Error::Truncated { path: path.to_path_buf(), expected: 100, actual: len }
        } else {
            Error::NotAStore { path: path.to_path_buf() }
        });
    }
    if &header[..16] != MAGIC {
        return Err(Error::NotAStore { path: path.to_path_buf() });
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n if n >= 512 && n.is_power_of_two() => u64::from(n),
        _ => return Err(Error::NotAStore { path: path.to_path_buf() }),
    };
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    // The in-header size is only trusted when it was written by the same
    // transaction as the change counter (SQLite's own rule).
    if change_counter == valid_for && pages > 0 {
        let expected = pages * page_size;
        if len < expected {
            return Err(Error::Truncated { path: path.to_path_buf(), expected, actual: len });
        }
    } else if len % page_size != 0 {
        return Err(Error::Truncated { path: path.to_path_buf(), expected: len.next_multiple_of(page_size), actual: len });
    }
    Ok(true)
}

fn starts_with_magic(path: &Path) -> bool {
    let mut buf = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut buf)).is_ok() && &buf == MAGIC
}
