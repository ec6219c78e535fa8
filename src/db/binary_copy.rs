//! A reader of PostgreSQL's binary `COPY ... TO STDOUT (FORMAT binary)`
//! stream, for the one read where sqlx's per-row cost shows: a meeting's
//! marks for the dashboard (250,000 rows at 5,000 examiners). Each row as a
//! query result passes through sqlx's row stream, its row type and a decode
//! per column, nearly twice what PostgreSQL spends sending it; the same rows
//! as COPY data are read here in one loop over the bytes.
//!
//! The format (<https://www.postgresql.org/docs/current/sql-copy.html>, "Binary
//! Format"): a header (an 11-byte signature, 32-bit flags, a 32-bit length of
//! an extension area), then each tuple as a 16-bit field count and, per field,
//! a 32-bit length (−1 for NULL) and that many bytes; then a 16-bit −1. All
//! integers in network byte order. Chunks may split anywhere.

use uuid::Uuid;

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Why the bytes are not the tuples expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CopyError {
    /// Not binary COPY data.
    #[error("binary COPY: the stream does not start with PostgreSQL's signature")]
    Signature,
    /// A tuple of another width than asked for.
    #[error("binary COPY: a tuple has {found} fields, {expected} expected")]
    Width { found: i16, expected: usize },
    /// A field whose bytes are not of its type.
    #[error("binary COPY: a field of {len} bytes is not a {of}")]
    Field { len: usize, of: &'static str },
    /// A NULL where the column cannot be NULL.
    #[error("binary COPY: NULL in a column that cannot be NULL")]
    Null,
    /// Bytes after the end marker, or the stream ended mid-tuple.
    #[error("binary COPY: the stream does not end where its tuples do")]
    Framing,
}

/// A tuple's fields: each one's bytes, None for NULL.
pub type Fields<'b, const N: usize> = [Option<&'b [u8]>; N];

/// Reads tuples of `N` fields from chunks of a binary COPY stream.
#[derive(Debug, Default)]
pub struct Tuples<const N: usize> {
    /// What the last chunk left: the start of a header or tuple.
    rest: Vec<u8>,
    header_read: bool,
    ended: bool,
}

impl<const N: usize> Tuples<N> {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the tuples `chunk` completes, handing each to `row` as its
    /// fields' bytes (None for NULL); keeps what is left for the next chunk.
    pub fn read<E: From<CopyError>>(&mut self, chunk: &[u8], mut row: impl FnMut(Fields<'_, N>) -> Result<(), E>) -> Result<(), E> {
        // Most chunks are one whole tuple (PostgreSQL sends a message per
        // row): read them where they are, copying only what is split.
        let mut joined;
        let bytes = if self.rest.is_empty() {
            chunk
        } else {
            joined = std::mem::take(&mut self.rest);
            joined.extend_from_slice(chunk);
            &joined[..]
        };
        let mut at = 0;
        loop {
            if self.ended {
                return if at == bytes.len() { Ok(()) } else { Err(CopyError::Framing.into()) };
            }
            match self.next(&bytes[at..])? {
                Some((used, fields)) => {
                    at += used;
                    if let Some(fields) = fields {
                        row(fields)?;
                    }
                }
                None => {
                    self.rest = bytes[at..].to_vec();
                    return Ok(());
                }
            }
        }
    }

    /// Checks the stream ended where it should: after its end marker.
    pub fn finish(self) -> Result<(), CopyError> {
        if self.ended && self.rest.is_empty() { Ok(()) } else { Err(CopyError::Framing) }
    }

    /// The next item at the start of `bytes` and the bytes it took: the header
    /// or the end marker (no fields) or a tuple; None when `bytes` holds only
    /// part of it.
    fn next<'b>(&mut self, bytes: &'b [u8]) -> Result<Option<(usize, Option<Fields<'b, N>>)>, CopyError> {
        if !self.header_read {
            // Signature, flags, extension length, extension.
            let Some(head) = bytes.get(..19) else {
                return if SIGNATURE.starts_with(&bytes[..bytes.len().min(11)]) { Ok(None) } else { Err(CopyError::Signature) };
            };
            if &head[..11] != SIGNATURE {
                return Err(CopyError::Signature);
            }
            let extension = u32::from_be_bytes(head[15..19].try_into().expect("4 bytes")) as usize;
            if bytes.len() < 19 + extension {
                return Ok(None);
            }
            self.header_read = true;
            return Ok(Some((19 + extension, None)));
        }
        let Some(count) = bytes.get(..2) else { return Ok(None) };
        let count = i16::from_be_bytes([count[0], count[1]]);
        if count == -1 {
            self.ended = true;
            return Ok(Some((2, None)));
        }
        if usize::try_from(count).ok() != Some(N) {
            return Err(CopyError::Width { found: count, expected: N });
        }
        let mut fields = [None; N];
        let mut at = 2;
        for field in &mut fields {
            let Some(len) = bytes.get(at..at + 4) else { return Ok(None) };
            let len = i32::from_be_bytes(len.try_into().expect("4 bytes"));
            at += 4;
            if len < 0 {
                continue;
            }
            let Some(value) = bytes.get(at..at + len as usize) else { return Ok(None) };
            at += len as usize;
            *field = Some(value);
        }
        Ok(Some((at, Some(fields))))
    }
}

/// A `uuid` field.
pub fn uuid(field: Option<&[u8]>) -> Result<Uuid, CopyError> {
    let bytes = field.ok_or(CopyError::Null)?;
    Uuid::from_slice(bytes).map_err(|_| CopyError::Field { len: bytes.len(), of: "uuid" })
}

/// An `integer` field that may be NULL.
pub fn int4(field: Option<&[u8]>) -> Result<Option<i32>, CopyError> {
    field.map(|b| b.try_into().map(i32::from_be_bytes).map_err(|_| CopyError::Field { len: b.len(), of: "integer" })).transpose()
}

/// A `boolean` field.
pub fn boolean(field: Option<&[u8]>) -> Result<bool, CopyError> {
    match field.ok_or(CopyError::Null)? {
        [b] => Ok(*b != 0),
        other => Err(CopyError::Field { len: other.len(), of: "boolean" }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A stream as PostgreSQL writes it: header (with an extension area), tuples, end marker.
    fn stream(rows: &[(Uuid, Option<i32>, bool)]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend(0u32.to_be_bytes());
        out.extend(3u32.to_be_bytes());
        out.extend(b"ext");
        for (id, n, b) in rows {
            out.extend(3i16.to_be_bytes());
            out.extend(16i32.to_be_bytes());
            out.extend(id.as_bytes());
            match n {
                Some(n) => {
                    out.extend(4i32.to_be_bytes());
                    out.extend(n.to_be_bytes());
                }
                None => out.extend((-1i32).to_be_bytes()),
            }
            out.extend(1i32.to_be_bytes());
            out.push(u8::from(*b));
        }
        out.extend((-1i16).to_be_bytes());
        out
    }

    fn read_in(chunks: &[&[u8]]) -> Result<Vec<(Uuid, Option<i32>, bool)>, CopyError> {
        let mut tuples = Tuples::<3>::new();
        let mut rows = Vec::new();
        for chunk in chunks {
            tuples.read(chunk, |[a, b, c]| {
                rows.push((uuid(a)?, int4(b)?, boolean(c)?));
                Ok::<_, CopyError>(())
            })?;
        }
        tuples.finish()?;
        Ok(rows)
    }

    proptest! {
        /// However the stream is cut into chunks, every tuple is read once, in order.
        #[test]
        fn every_tuple_is_read_however_the_stream_is_split(
            rows in prop::collection::vec((any::<u128>(), any::<Option<i32>>(), any::<bool>()), 0..20),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let rows: Vec<(Uuid, Option<i32>, bool)> = rows.into_iter().map(|(u, n, b)| (Uuid::from_u128(u), n, b)).collect();
            let bytes = stream(&rows);
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            at.push(0);
            at.push(bytes.len());
            at.sort_unstable();
            let chunks: Vec<&[u8]> = at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
            prop_assert_eq!(read_in(&chunks)?, rows);
        }
    }

    #[test]
    fn what_is_not_the_tuples_asked_for_is_an_error() {
        let id = Uuid::from_u128(7);
        let good = stream(&[(id, Some(3), true)]);
        assert_eq!(read_in(&[b"COPY 1\n"]), Err(CopyError::Signature));
        assert_eq!(read_in(&[&good[..good.len() - 1]]), Err(CopyError::Framing), "cut short");
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(read_in(&[&extra]), Err(CopyError::Framing), "bytes after the end");
        let mut wide = good.clone();
        wide[22..24].copy_from_slice(&4i16.to_be_bytes());
        assert_eq!(read_in(&[&wide]), Err(CopyError::Width { found: 4, expected: 3 }));
        // A well-framed tuple whose first field is 4 bytes, not a uuid's 16.
        let mut short_uuid = stream(&[]);
        short_uuid.truncate(22);
        short_uuid.extend(3i16.to_be_bytes());
        short_uuid.extend(4i32.to_be_bytes());
        short_uuid.extend(7i32.to_be_bytes());
        short_uuid.extend((-1i32).to_be_bytes());
        short_uuid.extend(1i32.to_be_bytes());
        short_uuid.push(1);
        short_uuid.extend((-1i16).to_be_bytes());
        assert_eq!(read_in(&[&short_uuid]), Err(CopyError::Field { len: 4, of: "uuid" }));
        let mut null_id = stream(&[]);
        null_id.truncate(22);
        null_id.extend(3i16.to_be_bytes());
        null_id.extend((-1i32).to_be_bytes());
        null_id.extend((-1i32).to_be_bytes());
        null_id.extend((-1i32).to_be_bytes());
        null_id.extend((-1i16).to_be_bytes());
        assert_eq!(read_in(&[&null_id]), Err(CopyError::Null));
    }
}
