//! Canonical binary encoding of signed records.
//!
//! Layout of every record: `u16 tag length || tag || u16 version || body`. The body is made of
//! fixed-width big-endian integers, `u8` booleans (0 or 1, anything else rejected), floats as
//! their IEEE-754 bit pattern (`f64::to_bits`, big-endian), and `u32`-length-prefixed bytes,
//! UTF-8 strings and sequences. There is exactly one encoding of each value, so equal records
//! have equal bytes and equal signatures. The tag names the record type
//! (`b"toolcap/fleet/summary/v1"`): bytes encoded as one type never decode as another.

use crate::error::{Error, Result};

/// Largest length prefix a decoder accepts (16 MiB): a hostile prefix cannot make it allocate.
pub const MAX_LEN: u32 = 16 << 20;

/// Builds the canonical bytes of one record.
#[derive(Debug, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// Starts a record of type `tag` at `version`.
    ///
    /// Tags are short constants; one longer than 65535 bytes is cut to that length.
    pub fn new(tag: &[u8], version: u16) -> Self {
        let mut enc = Encoder {
            buf: Vec::with_capacity(64 + tag.len()),
        };
        let len = u16::try_from(tag.len()).unwrap_or(u16::MAX);
        enc.buf.extend_from_slice(&len.to_be_bytes());
        enc.buf.extend_from_slice(&tag[..usize::from(len)]);
        enc.buf.extend_from_slice(&version.to_be_bytes());
        enc
    }
    /// Appends a `u8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a big-endian two's-complement `i64`.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a boolean as one byte, 0 or 1.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.buf.push(u8::from(v));
        self
    }
    /// Appends an `f64` as its IEEE-754 bits, big-endian (NaN payloads are kept as they are).
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.u64(v.to_bits())
    }
    /// Appends fixed-size bytes without a length (the reader knows the size).
    pub fn array<const N: usize>(&mut self, v: &[u8; N]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    /// Appends `u32` length-prefixed bytes.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.len(v.len());
        self.buf.extend_from_slice(v);
        self
    }
    /// Appends a `u32` length-prefixed UTF-8 string.
    pub fn str(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }
    /// Appends the `u32` element count of a sequence; the caller then appends each element.
    pub fn seq(&mut self, count: usize) -> &mut Self {
        self.len(count);
        self
    }
    fn len(&mut self, n: usize) {
        // Lengths above u32::MAX cannot be decoded; saturate so the decoder rejects the record.
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&n.to_be_bytes());
    }
    /// The canonical bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads the canonical bytes of one record; every read is checked.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    rest: &'a [u8],
    version: u16,
}

impl<'a> Decoder<'a> {
    /// Opens a record, checking its tag equals `tag` and its version is in `versions`.
    pub fn new(input: &'a [u8], tag: &[u8], versions: &[u16]) -> Result<Self> {
        let mut dec = Decoder {
            rest: input,
            version: 0,
        };
        let len = dec.u16()?;
        let got = dec.take(usize::from(len))?;
        if got != tag {
            return Err(Error::WrongTag);
        }
        let version = dec.u16()?;
        if !versions.contains(&version) {
            return Err(Error::UnknownVersion(version));
        }
        dec.version = version;
        Ok(dec)
    }
    /// The record's version (one of those passed to [`Decoder::new`]).
    pub fn version(&self) -> u16 {
        self.version
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(Error::Truncated {
                needed: n - self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    /// Reads a `u8`.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.fixed::<1>()?[0])
    }
    /// Reads a big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        self.fixed().map(u16::from_be_bytes)
    }
    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        self.fixed().map(u32::from_be_bytes)
    }
    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        self.fixed().map(u64::from_be_bytes)
    }
    /// Reads a big-endian `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        self.fixed().map(i64::from_be_bytes)
    }
    /// Reads a boolean; bytes other than 0 and 1 are rejected.
    pub fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::InvalidField("boolean")),
        }
    }
    /// Reads an `f64` from its IEEE-754 bits.
    pub fn f64(&mut self) -> Result<f64> {
        self.u64().map(f64::from_bits)
    }
    /// Reads `N` bytes without a length prefix.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.fixed()
    }
    /// Reads `u32` length-prefixed bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }
    /// Reads a `u32` length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Error::InvalidField("utf-8 string"))
    }
    /// Reads a sequence's element count. The count is bounded by [`MAX_LEN`] and by the bytes
    /// left (every element takes at least one byte), so it is safe to pre-allocate.
    pub fn seq(&mut self) -> Result<usize> {
        self.len()
    }
    fn len(&mut self) -> Result<usize> {
        let n = self.u32()?;
        if n > MAX_LEN || n as usize > self.rest.len() {
            return Err(Error::LengthLimit(u64::from(n)));
        }
        Ok(n as usize)
    }
    /// Ends the record: input left over is an error.
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes(self.rest.len()))
        }
    }
}

/// A record type with one canonical encoding.
pub trait Canonical: Sized {
    /// The domain-separation tag of this record type, e.g. `b"toolcap/fleet/summary/v1"`.
    const TAG: &'static [u8];
    /// The version written by [`Canonical::to_canonical`].
    const VERSION: u16;
    /// Versions [`Canonical::from_canonical`] accepts (default: only [`Canonical::VERSION`]).
    const ACCEPTED: &'static [u16] = &[Self::VERSION];
    /// Writes the body (every field; the tag and version are already written).
    fn encode_body(&self, enc: &mut Encoder);
    /// Reads the body; `dec.version()` tells which version is being read.
    fn decode_body(dec: &mut Decoder<'_>) -> Result<Self>;

    /// The canonical bytes of this record.
    fn to_canonical(&self) -> Vec<u8> {
        let mut enc = Encoder::new(Self::TAG, Self::VERSION);
        self.encode_body(&mut enc);
        enc.finish()
    }
    /// Decodes canonical bytes, rejecting other tags, unknown versions and trailing bytes.
    fn from_canonical(bytes: &[u8]) -> Result<Self> {
        let mut dec = Decoder::new(bytes, Self::TAG, Self::ACCEPTED)?;
        let value = Self::decode_body(&mut dec)?;
        dec.finish()?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Rec {
        a: u64,
        b: i64,
        c: f64,
        d: bool,
        e: Vec<u8>,
        f: String,
        g: Vec<u32>,
    }

    impl Canonical for Rec {
        const TAG: &'static [u8] = b"toolcap/test/rec/v1";
        const VERSION: u16 = 1;
        fn encode_body(&self, enc: &mut Encoder) {
            enc.u64(self.a)
                .i64(self.b)
                .f64(self.c)
                .bool(self.d)
                .bytes(&self.e)
                .str(&self.f);
            enc.seq(self.g.len());
            for x in &self.g {
                enc.u32(*x);
            }
        }
        fn decode_body(dec: &mut Decoder<'_>) -> Result<Self> {
            let (a, b, c, d) = (dec.u64()?, dec.i64()?, dec.f64()?, dec.bool()?);
            let e = dec.bytes()?.to_vec();
            let f = dec.str()?.to_owned();
            let n = dec.seq()?;
            let mut g = Vec::with_capacity(n);
            for _ in 0..n {
                g.push(dec.u32()?);
            }
            Ok(Rec {
                a,
                b,
                c,
                d,
                e,
                f,
                g,
            })
        }
    }

    #[test]
    fn layout_is_fixed() {
        let mut enc = Encoder::new(b"t", 2);
        enc.u16(0x0102).bytes(b"ab").f64(1.0);
        assert_eq!(
            enc.finish(),
            [
                0, 1, b't', 0, 2, 1, 2, 0, 0, 0, 2, b'a', b'b', 0x3f, 0xf0, 0, 0, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn rejects_tag_version_trailing() {
        let r = Rec {
            a: 1,
            b: -2,
            c: 0.5,
            d: true,
            e: vec![1],
            f: "x".into(),
            g: vec![7],
        };
        let mut bytes = r.to_canonical();
        assert_eq!(Rec::from_canonical(&bytes).unwrap(), r);
        let mut other = Encoder::new(b"toolcap/test/other/v1", 1);
        r.encode_body(&mut other);
        assert!(matches!(
            Rec::from_canonical(&other.finish()),
            Err(Error::WrongTag)
        ));
        let mut v2 = Encoder::new(Rec::TAG, 9);
        r.encode_body(&mut v2);
        assert!(matches!(
            Rec::from_canonical(&v2.finish()),
            Err(Error::UnknownVersion(9))
        ));
        bytes.push(0);
        assert!(matches!(
            Rec::from_canonical(&bytes),
            Err(Error::TrailingBytes(1))
        ));
    }

    proptest! {
        #[test]
        fn roundtrip(a: u64, b: i64, c: f64, d: bool, e: Vec<u8>, f: String, g: Vec<u32>) {
            let r = Rec { a, b, c, d, e, f, g };
            let back = Rec::from_canonical(&r.to_canonical()).unwrap();
            prop_assert_eq!(back.c.to_bits(), r.c.to_bits());
            prop_assert_eq!(back.to_canonical(), r.to_canonical());
        }

        #[test]
        fn decode_never_panics(bytes: Vec<u8>) {
            let _ = Rec::from_canonical(&bytes);
        }
    }
}
