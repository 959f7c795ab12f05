//! Lists kept beside a record in gzip-compressed JSON chunks, each small enough for one item (a
//! DynamoDB item is at most 400 KB, and a chunk's bytes are stored base64): an audit run's
//! findings, a scan's finding keys.

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use compliance_store::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A chunk's compressed bytes stay under this, so the item (base64) stays under 400 KB.
pub const MAX_CHUNK_COMPRESSED: usize = 256 * 1024;

/// `first`, `count` and the compressed bytes of one chunk of a list.
pub struct Chunk {
    pub first: usize,
    pub count: usize,
    pub data: Vec<u8>,
}

impl Chunk {
    /// The bytes as an item attribute holds them.
    pub fn encoded(&self) -> String {
        STANDARD.encode(&self.data)
    }

    /// About the size of the encoded item.
    pub fn encoded_len(&self) -> usize {
        self.data.len() * 4 / 3 + 1024
    }
}

fn compress<T: Serialize>(items: &[T]) -> Vec<u8> {
    let json = serde_json::to_vec(items).expect("chunk items serialise");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

/// The items of a chunk stored as [`Chunk::encoded`]; `what` names it in errors.
pub fn decode<T: DeserializeOwned>(text: &str, what: &str) -> Result<Vec<T>, StoreError> {
    let malformed = |e: String| StoreError::Backend(format!("malformed {what} chunk: {e}"));
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| malformed(e.to_string()))?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut json)
        .map_err(|e| malformed(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| malformed(e.to_string()))
}

/// `items` in compressed chunks of `per_chunk`, halved while a chunk is too large. A single item
/// that does not compress under the cap is left out (callers store bounded values, so this does
/// not happen).
pub fn split<T: Serialize>(items: &[T], per_chunk: usize) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut pending: Vec<(usize, usize)> = (0..items.len())
        .step_by(per_chunk.max(1))
        .map(|first| (first, per_chunk.min(items.len() - first)))
        .rev()
        .collect();
    while let Some((first, count)) = pending.pop() {
        let data = compress(&items[first..first + count]);
        if data.len() > MAX_CHUNK_COMPRESSED && count > 1 {
            let half = count / 2;
            pending.push((first + half, count - half));
            pending.push((first, half));
        } else if data.len() <= MAX_CHUNK_COMPRESSED {
            out.push(Chunk { first, count, data });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_in_order() {
        let items: Vec<String> = (0..1_050).map(|i| format!("item {i}")).collect();
        let chunks = split(&items, 500);
        assert_eq!(
            chunks
                .iter()
                .map(|c| (c.first, c.count))
                .collect::<Vec<_>>(),
            [(0, 500), (500, 500), (1000, 50)]
        );
        let back: Vec<String> = chunks
            .iter()
            .flat_map(|c| decode::<String>(&c.encoded(), "test").unwrap())
            .collect();
        assert_eq!(back, items);
        assert!(decode::<String>("not base64!", "test").is_err());
    }

    #[test]
    fn a_chunk_too_large_is_halved() {
        // Incompressible items: 600 of ~1 KB do not fit one chunk.
        let mut x: u64 = 7;
        let items: Vec<String> = (0..600)
            .map(|_| {
                (0..1_000)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        char::from(b'a' + (x >> 59) as u8 % 26)
                    })
                    .collect()
            })
            .collect();
        let chunks = split(&items, 600);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.data.len() <= MAX_CHUNK_COMPRESSED));
        assert_eq!(chunks.iter().map(|c| c.count).sum::<usize>(), 600);
    }
}
