//! The `lst` encoding — draft-ietf-oauth-status-list §4.1 step 4 and §4.2.
//!
//! <https://datatracker.ietf.org/doc/html/draft-ietf-oauth-status-list#section-4.2>
//!
//! `lst` is the byte array compressed with DEFLATE in the ZLIB format
//! (RFC 1950/1951), then base64url-encoded without padding. Decoding is
//! bounded: a list that inflates beyond [`DecodeLimits::max_decompressed_bytes`]
//! is rejected before more than that much memory is asked for (§11.1 of the
//! draft warns about such decompression bombs).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::list::{Bits, StatusList};

/// Bounds on decoding an untrusted `lst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The largest decompressed byte array accepted. The default, 16 MiB,
    /// holds 134 million 1-bit or 16 million 8-bit statuses.
    pub max_decompressed_bytes: usize,
}

impl DecodeLimits {
    /// 16 MiB of decompressed statuses.
    pub const DEFAULT: DecodeLimits = DecodeLimits {
        max_decompressed_bytes: 16 * 1024 * 1024,
    };
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits::DEFAULT
    }
}

/// Why an `lst` could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// `lst` is not base64url without padding.
    #[error("status list `lst` is not base64url without padding: {0}")]
    Base64(#[source] base64::DecodeError),
    /// The bytes are not a valid ZLIB stream (bad header, bad DEFLATE data
    /// or a wrong Adler-32 checksum).
    #[error("status list `lst` is not a valid ZLIB stream: {0}")]
    Zlib(#[source] flate2::DecompressError),
    /// The ZLIB stream stops before its end.
    #[error("status list `lst` ends in the middle of its ZLIB stream")]
    Truncated,
    /// Bytes follow the end of the ZLIB stream.
    #[error("status list `lst` has {0} bytes after the end of its ZLIB stream")]
    TrailingData(usize),
    /// The list inflates to more than the configured limit.
    #[error("status list inflates to more than the limit of {limit} bytes")]
    TooLarge {
        /// [`DecodeLimits::max_decompressed_bytes`] in force.
        limit: usize,
    },
}

impl StatusList {
    /// Compresses the list (ZLIB, best compression) and base64url-encodes it:
    /// the `lst` member of §4.2.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.compress())
    }

    /// The ZLIB-compressed byte array (§4.1 step 4), as carried in CBOR.
    pub fn compress(&self) -> Vec<u8> {
        let input = self.as_bytes();
        let mut deflater = Compress::new(Compression::best(), true);
        // A ZLIB stream is at most a few bytes per 16 KiB block larger than
        // its input; start there and grow if a pathological input needs more.
        let mut out = Vec::with_capacity(input.len() + input.len() / 1000 + 64);
        loop {
            let consumed = deflater.total_in() as usize;
            // Invariant: `Compress` fails only on misuse (a call after the
            // stream finished, or a bad flush mode); this loop finishes it
            // exactly once and stops on `StreamEnd`.
            let status = deflater
                .compress_vec(&input[consumed..], &mut out, FlushCompress::Finish)
                .expect("DEFLATE of an in-memory buffer with FlushCompress::Finish");
            if status == Status::StreamEnd {
                return out;
            }
            out.reserve(out.capacity().max(64));
        }
    }

    /// Decodes an `lst` (§4.2) holding entries of `bits` bits.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Base64`] when `lst` is not base64url without padding;
    /// the others as for [`StatusList::decompress`].
    pub fn decode(bits: Bits, lst: &str, limits: DecodeLimits) -> Result<Self, DecodeError> {
        let compressed = URL_SAFE_NO_PAD.decode(lst).map_err(DecodeError::Base64)?;
        Self::decompress(bits, &compressed, limits)
    }

    /// Inflates a ZLIB-compressed byte array (§4.1) holding entries of `bits`
    /// bits, asking for at most `limits.max_decompressed_bytes` of memory for
    /// the result.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Zlib`] for a corrupt stream, [`DecodeError::Truncated`]
    /// when it stops early, [`DecodeError::TrailingData`] when bytes follow
    /// it, and [`DecodeError::TooLarge`] when it inflates beyond the limit.
    pub fn decompress(
        bits: Bits,
        compressed: &[u8],
        limits: DecodeLimits,
    ) -> Result<Self, DecodeError> {
        let bytes = inflate_bounded(compressed, limits.max_decompressed_bytes)?;
        Ok(StatusList::from_bytes(bits, bytes))
    }
}

/// Inflates `compressed` into a vector whose allocation never exceeds `max`
/// bytes: the output buffer grows by doubling, capped at `max`, and once it
/// is full a one-byte probe tells a finished stream from an oversized one.
fn inflate_bounded(compressed: &[u8], max: usize) -> Result<Vec<u8>, DecodeError> {
    let mut inflater = Decompress::new(true);
    // Status lists compress very well; guess a generous ratio up front so
    // that large lists need few regrowths.
    let mut out: Vec<u8> = Vec::with_capacity(compressed.len().saturating_mul(32).min(max));
    let mut consumed = 0;
    loop {
        if out.len() == out.capacity() && out.capacity() < max {
            let grow = out.capacity().max(4096).min(max - out.capacity());
            out.reserve_exact(grow);
        }
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let input = &compressed[consumed..];
        let status = if out.len() < out.capacity().min(max) {
            inflater.decompress_vec(input, &mut out, FlushDecompress::None)
        } else {
            let mut probe = [0u8; 1];
            let status = inflater.decompress(input, &mut probe, FlushDecompress::None);
            if inflater.total_out() > out_before {
                return Err(DecodeError::TooLarge { limit: max });
            }
            status
        }
        .map_err(DecodeError::Zlib)?;
        // Lossless: at most `input.len()` bytes were consumed by this call.
        consumed += (inflater.total_in() - in_before) as usize;
        if out.len() > max {
            return Err(DecodeError::TooLarge { limit: max });
        }
        if status == Status::StreamEnd {
            break;
        }
        if inflater.total_in() == in_before && inflater.total_out() == out_before {
            return Err(DecodeError::Truncated);
        }
    }
    match compressed.len() - consumed {
        0 => Ok(out),
        trailing => Err(DecodeError::TrailingData(trailing)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status_list::{StatusIndex, StatusType};

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        StatusList::from_bytes(Bits::Eight, bytes.to_vec()).compress()
    }

    #[test]
    fn encode_then_decode_round_trips() {
        for bits in [Bits::One, Bits::Two, Bits::Four, Bits::Eight] {
            let mut list = StatusList::new(bits, 10_000);
            for index in (0..10_000u32).step_by(7) {
                list.set(index.into(), StatusType::from(bits.max_status()))
                    .unwrap();
            }
            let lst = list.encode();
            assert!(!lst.contains('='), "no padding");
            let decoded = StatusList::decode(bits, &lst, DecodeLimits::default()).unwrap();
            assert_eq!(decoded, list);
        }
    }

    #[test]
    fn decodes_the_4_2_example() {
        let list =
            StatusList::decode(Bits::One, "eNrbuRgAAhcBXQ", DecodeLimits::default()).unwrap();
        assert_eq!(list.as_bytes(), &[0xb9, 0xa3]);
        assert_eq!(list.get(StatusIndex::from(0u32)), Ok(StatusType::Invalid));
    }

    #[test]
    fn empty_list_round_trips() {
        let list = StatusList::new(Bits::One, 0);
        let decoded =
            StatusList::decode(Bits::One, &list.encode(), DecodeLimits::default()).unwrap();
        assert!(decoded.is_empty());
    }

    #[test]
    fn bad_base64_is_rejected() {
        for lst in ["eNrbuRgAAhcBXQ==", "eNrb+RgAAhcBXQ", "eNrb/RgAAhcBXQ", "!"] {
            assert!(
                matches!(
                    StatusList::decode(Bits::One, lst, DecodeLimits::default()),
                    Err(DecodeError::Base64(_))
                ),
                "{lst}"
            );
        }
    }

    #[test]
    fn bad_zlib_is_rejected() {
        // Raw DEFLATE without the ZLIB header.
        let mut raw = zlib(&[0xb9, 0xa3]);
        raw.drain(..2);
        assert!(matches!(
            StatusList::decompress(Bits::One, &raw, DecodeLimits::default()),
            Err(DecodeError::Zlib(_))
        ));
        // Not compressed at all.
        assert!(matches!(
            StatusList::decompress(Bits::One, b"hello, world", DecodeLimits::default()),
            Err(DecodeError::Zlib(_))
        ));
        // A wrong Adler-32 checksum.
        let mut bad_sum = zlib(&[0xb9, 0xa3]);
        *bad_sum.last_mut().unwrap() ^= 0xff;
        assert!(matches!(
            StatusList::decompress(Bits::One, &bad_sum, DecodeLimits::default()),
            Err(DecodeError::Zlib(_))
        ));
    }

    #[test]
    fn truncated_zlib_is_rejected() {
        let full = zlib(&[7; 1000]);
        for cut in [0, 1, 2, full.len() / 2, full.len() - 1] {
            assert!(
                matches!(
                    StatusList::decompress(Bits::One, &full[..cut], DecodeLimits::default()),
                    Err(DecodeError::Truncated)
                ),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn trailing_data_is_rejected() {
        let mut bytes = zlib(&[0xb9, 0xa3]);
        bytes.extend_from_slice(b"xyz");
        assert!(matches!(
            StatusList::decompress(Bits::One, &bytes, DecodeLimits::default()),
            Err(DecodeError::TrailingData(3))
        ));
    }

    /// A 64 MiB run of zeros compresses to about 64 KiB; with a 1 MiB cap the
    /// decoder must stop at the cap and never ask for more memory.
    #[test]
    fn inflate_bomb_over_the_cap_is_rejected() {
        let bomb = StatusList::new(Bits::One, 8 * 64 * 1024 * 1024).encode();
        let limits = DecodeLimits {
            max_decompressed_bytes: 1024 * 1024,
        };
        assert!(matches!(
            StatusList::decode(Bits::One, &bomb, limits),
            Err(DecodeError::TooLarge { limit }) if limit == 1024 * 1024
        ));
    }

    #[test]
    fn list_of_exactly_the_cap_is_accepted() {
        for size in [1usize, 4096, 4097, 100_000] {
            let list = StatusList::from_bytes(Bits::Eight, vec![0xA5; size]);
            let compressed = list.compress();
            let exact = DecodeLimits {
                max_decompressed_bytes: size,
            };
            assert_eq!(
                StatusList::decompress(Bits::Eight, &compressed, exact).unwrap(),
                list
            );
            let one_less = DecodeLimits {
                max_decompressed_bytes: size - 1,
            };
            assert!(matches!(
                StatusList::decompress(Bits::Eight, &compressed, one_less),
                Err(DecodeError::TooLarge { .. })
            ));
        }
    }

    #[test]
    fn zero_cap_accepts_only_the_empty_list() {
        let zero = DecodeLimits {
            max_decompressed_bytes: 0,
        };
        assert!(
            StatusList::decompress(Bits::One, &zlib(&[]), zero)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            StatusList::decompress(Bits::One, &zlib(&[1]), zero),
            Err(DecodeError::TooLarge { limit: 0 })
        ));
    }

    #[test]
    fn incompressible_input_encodes() {
        // A xorshift byte stream defeats DEFLATE, so the output outgrows the
        // initial guess only through the regrowth path.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let bytes: Vec<u8> = (0..200_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let list = StatusList::from_bytes(Bits::Eight, bytes);
        let decoded =
            StatusList::decompress(Bits::Eight, &list.compress(), DecodeLimits::default()).unwrap();
        assert_eq!(decoded, list);
    }
}
