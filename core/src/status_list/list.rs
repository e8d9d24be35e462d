//! The Status List byte array — draft-ietf-oauth-status-list §4.1 and §7.
//!
//! <https://datatracker.ietf.org/doc/html/draft-ietf-oauth-status-list#section-4.1>
//!
//! Every Referenced Token owns one entry of `bits` bits. Entries are packed
//! into bytes from the least significant bit up: with `bits = 1`, index 0 is
//! bit 0 of byte 0 and index 8 is bit 0 of byte 1.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How many bits one status takes in a Status List (§4.1 step 1).
///
/// A closed set: the draft allows 1, 2, 4 and 8 and nothing else, so any
/// other value is rejected when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Bits {
    /// One bit: `VALID` or `INVALID`.
    One,
    /// Two bits: adds `SUSPENDED` and the application-specific `0x03`.
    Two,
    /// Four bits: 16 status values.
    Four,
    /// Eight bits: 256 status values.
    Eight,
}

impl Bits {
    /// The number of bits, as written in the `bits` member.
    pub const fn value(self) -> u8 {
        match self {
            Bits::One => 1,
            Bits::Two => 2,
            Bits::Four => 4,
            Bits::Eight => 8,
        }
    }

    /// The largest status value an entry of this width can hold.
    pub const fn max_status(self) -> u8 {
        match self {
            Bits::One => 0x01,
            Bits::Two => 0x03,
            Bits::Four => 0x0F,
            Bits::Eight => 0xFF,
        }
    }

    /// How many entries share one byte (8, 4, 2 or 1).
    pub const fn entries_per_byte(self) -> usize {
        8 / self.value() as usize
    }
}

impl TryFrom<u8> for Bits {
    type Error = BitsError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(Bits::One),
            2 => Ok(Bits::Two),
            4 => Ok(Bits::Four),
            8 => Ok(Bits::Eight),
            other => Err(BitsError::Unsupported(other)),
        }
    }
}

impl From<Bits> for u8 {
    fn from(bits: Bits) -> Self {
        bits.value()
    }
}

impl fmt::Display for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

/// Why a number is not a valid [`Bits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitsError {
    /// The value is not 1, 2, 4 or 8.
    #[error("status list `bits` must be 1, 2, 4 or 8, got {0}")]
    Unsupported(u8),
}

/// The status of one Referenced Token (§7.1).
///
/// Build it from a raw value with `StatusType::from(u8)`, which picks the
/// right variant; [`StatusType::value`] gives the raw value back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusType {
    /// `0x00`: the token is valid, correct or legal.
    Valid,
    /// `0x01`: the token is revoked, annulled, taken back, recalled or
    /// cancelled.
    Invalid,
    /// `0x02`: the token is temporarily invalid.
    Suspended,
    /// `0x03` or `0x0C`–`0x0F`: permanently reserved for applications.
    ApplicationSpecific(u8),
    /// Any other value: reserved for future registration.
    Reserved(u8),
}

impl StatusType {
    /// The raw value of this status as stored in the list.
    pub const fn value(self) -> u8 {
        match self {
            StatusType::Valid => 0x00,
            StatusType::Invalid => 0x01,
            StatusType::Suspended => 0x02,
            StatusType::ApplicationSpecific(value) | StatusType::Reserved(value) => value,
        }
    }
}

impl From<u8> for StatusType {
    fn from(value: u8) -> Self {
        match value {
            0x00 => StatusType::Valid,
            0x01 => StatusType::Invalid,
            0x02 => StatusType::Suspended,
            0x03 | 0x0C..=0x0F => StatusType::ApplicationSpecific(value),
            other => StatusType::Reserved(other),
        }
    }
}

impl fmt::Display for StatusType {
    /// The registered name (`VALID`, `INVALID`, `SUSPENDED`), or the value in
    /// hex for the others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusType::Valid => f.write_str("VALID"),
            StatusType::Invalid => f.write_str("INVALID"),
            StatusType::Suspended => f.write_str("SUSPENDED"),
            StatusType::ApplicationSpecific(value) | StatusType::Reserved(value) => {
                write!(f, "0x{value:02X}")
            }
        }
    }
}

/// The position of a Referenced Token in a Status List: the `idx` member of
/// its `status_list` reference (§6.2), a non-negative integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusIndex(u64);

impl StatusIndex {
    /// The index as a number.
    pub const fn value(self) -> u64 {
        self.0
    }
}

impl From<u64> for StatusIndex {
    fn from(value: u64) -> Self {
        StatusIndex(value)
    }
}

impl From<u32> for StatusIndex {
    fn from(value: u32) -> Self {
        StatusIndex(u64::from(value))
    }
}

impl FromStr for StatusIndex {
    type Err = StatusIndexError;

    /// Parses a decimal, non-negative index such as `"42"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<u64>()
            .map(StatusIndex)
            .map_err(|source| StatusIndexError::NotANumber {
                input: s.to_owned(),
                source,
            })
    }
}

impl fmt::Display for StatusIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a string is not a [`StatusIndex`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusIndexError {
    /// The string is not a non-negative decimal integer that fits in 64 bits.
    #[error("status index {input:?} is not a non-negative integer: {source}")]
    NotANumber {
        /// The rejected input.
        input: String,
        /// What the integer parser said.
        source: std::num::ParseIntError,
    },
}

/// Why a status could not be read from a [`StatusList`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The index is past the end of the list. §8.3 step 6: no statement
    /// about the token can be made, and it must be rejected.
    #[error("status index {index} is out of range: the list holds {len} entries")]
    OutOfRange {
        /// The index asked for.
        index: StatusIndex,
        /// How many entries the list holds.
        len: usize,
    },
}

/// Why a status could not be written to a [`StatusList`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The index is past the end of the list.
    #[error("status index {index} is out of range: the list holds {len} entries")]
    OutOfRange {
        /// The index asked for.
        index: StatusIndex,
        /// How many entries the list holds.
        len: usize,
    },
    /// The status value needs more bits than the list has per entry, such as
    /// `SUSPENDED` (`0x02`) in a 1-bit list.
    #[error("status {status} does not fit in a {bits}-bit status list")]
    ValueTooWide {
        /// The status that was to be written.
        status: StatusType,
        /// The width of the list's entries.
        bits: Bits,
    },
}

/// A decompressed Status List: `bits` bits per Referenced Token, packed into
/// bytes least significant bit first (§4.1).
///
/// The list always covers whole bytes, so its [`len`](Self::len) is a
/// multiple of [`Bits::entries_per_byte`].
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Bits,
    bytes: Vec<u8>,
}

impl StatusList {
    /// An all-`VALID` list with room for at least `len` entries (rounded up
    /// to a whole byte).
    pub fn new(bits: Bits, len: usize) -> Self {
        StatusList {
            bits,
            bytes: vec![0; len.div_ceil(bits.entries_per_byte())],
        }
    }

    /// A list over an already packed, uncompressed byte array.
    pub fn from_bytes(bits: Bits, bytes: Vec<u8>) -> Self {
        StatusList { bits, bytes }
    }

    /// The width of each entry.
    pub fn bits(&self) -> Bits {
        self.bits
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * self.bits.entries_per_byte()
    }

    /// Whether the list has no entries at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The packed, uncompressed byte array.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives up the packed, uncompressed byte array.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The status at `index`.
    ///
    /// # Errors
    ///
    /// [`LookupError::OutOfRange`] when `index` is past the end.
    pub fn get(&self, index: StatusIndex) -> Result<StatusType, LookupError> {
        let (byte, shift) = self.locate(index).ok_or(LookupError::OutOfRange {
            index,
            len: self.len(),
        })?;
        Ok(StatusType::from(
            (self.bytes[byte] >> shift) & self.bits.max_status(),
        ))
    }

    /// Writes `status` at `index`.
    ///
    /// # Errors
    ///
    /// [`UpdateError::OutOfRange`] when `index` is past the end, and
    /// [`UpdateError::ValueTooWide`] when the status value needs more bits
    /// than the list has per entry.
    pub fn set(&mut self, index: StatusIndex, status: StatusType) -> Result<(), UpdateError> {
        let mask = self.bits.max_status();
        if status.value() > mask {
            return Err(UpdateError::ValueTooWide {
                status,
                bits: self.bits,
            });
        }
        let (byte, shift) = self.locate(index).ok_or(UpdateError::OutOfRange {
            index,
            len: self.len(),
        })?;
        let cell = &mut self.bytes[byte];
        *cell = (*cell & !(mask << shift)) | (status.value() << shift);
        Ok(())
    }

    /// Every status in index order.
    pub fn iter(&self) -> impl Iterator<Item = StatusType> + '_ {
        let bits = self.bits;
        self.bytes.iter().flat_map(move |&byte| {
            (0..bits.entries_per_byte()).map(move |slot| {
                StatusType::from((byte >> (slot * usize::from(bits.value()))) & bits.max_status())
            })
        })
    }

    /// The byte holding `index` and the shift of its lowest bit, or `None`
    /// when `index` is past the end.
    fn locate(&self, index: StatusIndex) -> Option<(usize, usize)> {
        let index = usize::try_from(index.value()).ok()?;
        let per_byte = self.bits.entries_per_byte();
        let byte = index / per_byte;
        if byte >= self.bytes.len() {
            return None;
        }
        Some((byte, (index % per_byte) * usize::from(self.bits.value())))
    }
}

impl fmt::Debug for StatusList {
    /// Shows the width and size, not the (possibly megabytes of) entries.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusList")
            .field("bits", &self.bits)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_accepts_exactly_1_2_4_8() {
        for (raw, bits) in [
            (1, Bits::One),
            (2, Bits::Two),
            (4, Bits::Four),
            (8, Bits::Eight),
        ] {
            assert_eq!(Bits::try_from(raw), Ok(bits));
            assert_eq!(u8::from(bits), raw);
        }
        for raw in [0, 3, 5, 6, 7, 9, 16, 255] {
            assert_eq!(Bits::try_from(raw), Err(BitsError::Unsupported(raw)));
        }
    }

    #[test]
    fn bits_rejects_unsupported_value_in_json() {
        let err = serde_json::from_str::<Bits>("3").unwrap_err();
        assert!(err.to_string().contains("must be 1, 2, 4 or 8"), "{err}");
        assert_eq!(serde_json::from_str::<Bits>("4").unwrap(), Bits::Four);
    }

    #[test]
    fn status_type_round_trips_every_value() {
        for value in 0..=u8::MAX {
            assert_eq!(StatusType::from(value).value(), value);
        }
        assert_eq!(StatusType::from(0), StatusType::Valid);
        assert_eq!(StatusType::from(1), StatusType::Invalid);
        assert_eq!(StatusType::from(2), StatusType::Suspended);
        assert_eq!(StatusType::from(3), StatusType::ApplicationSpecific(3));
        assert_eq!(
            StatusType::from(0x0C),
            StatusType::ApplicationSpecific(0x0C)
        );
        assert_eq!(
            StatusType::from(0x0F),
            StatusType::ApplicationSpecific(0x0F)
        );
        assert_eq!(StatusType::from(4), StatusType::Reserved(4));
        assert_eq!(StatusType::from(0x10), StatusType::Reserved(0x10));
        assert_eq!(StatusType::Suspended.to_string(), "SUSPENDED");
        assert_eq!(StatusType::from(0x0C).to_string(), "0x0C");
    }

    #[test]
    fn status_index_parses_decimal() {
        assert_eq!("42".parse::<StatusIndex>().unwrap().value(), 42);
        assert_eq!(StatusIndex::from(7u32).to_string(), "7");
    }

    #[test]
    fn status_index_rejects_negative_and_garbage() {
        for input in ["-1", "x", "", "18446744073709551616"] {
            let err = input.parse::<StatusIndex>().unwrap_err();
            assert!(
                matches!(&err, StatusIndexError::NotANumber { input: got, .. } if got == input),
                "{err}"
            );
        }
        assert!(serde_json::from_str::<StatusIndex>("-1").is_err());
    }

    /// §4.1, first example: 16 entries of 1 bit pack into `b9 a3`.
    #[test]
    fn packs_least_significant_bit_first() {
        let mut list = StatusList::new(Bits::One, 16);
        for index in [0u32, 3, 4, 5, 7, 8, 9, 13, 15] {
            list.set(index.into(), StatusType::Invalid).unwrap();
        }
        assert_eq!(list.as_bytes(), &[0xb9, 0xa3]);
    }

    /// §4.1, second example: 12 entries of 2 bits pack into `c9 44 f9`.
    #[test]
    fn packs_two_bit_entries() {
        let statuses = [1u8, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
        let mut list = StatusList::new(Bits::Two, statuses.len());
        for (index, status) in statuses.iter().enumerate() {
            list.set(StatusIndex::from(index as u64), StatusType::from(*status))
                .unwrap();
        }
        assert_eq!(list.as_bytes(), &[0xc9, 0x44, 0xf9]);
        let read: Vec<u8> = list.iter().map(StatusType::value).collect();
        assert_eq!(read, statuses);
    }

    #[test]
    fn set_overwrites_and_leaves_neighbours_alone() {
        for bits in [Bits::One, Bits::Two, Bits::Four, Bits::Eight] {
            let mut list = StatusList::new(bits, 64);
            let max = StatusType::from(bits.max_status());
            for index in 0..64u32 {
                list.set(index.into(), max).unwrap();
            }
            list.set(5u32.into(), StatusType::Valid).unwrap();
            for index in 0..64u32 {
                let expected = if index == 5 { StatusType::Valid } else { max };
                assert_eq!(
                    list.get(index.into()).unwrap(),
                    expected,
                    "{bits} bits, {index}"
                );
            }
        }
    }

    #[test]
    fn new_rounds_up_to_whole_bytes() {
        let list = StatusList::new(Bits::One, 12);
        assert_eq!(list.as_bytes().len(), 2);
        assert_eq!(list.len(), 16);
        assert!(!list.is_empty());
        assert!(StatusList::new(Bits::Eight, 0).is_empty());
        assert_eq!(StatusList::new(Bits::Two, 5).len(), 8);
    }

    #[test]
    fn get_out_of_range_is_rejected() {
        let list = StatusList::new(Bits::Two, 8);
        assert_eq!(
            list.get(8u32.into()),
            Err(LookupError::OutOfRange {
                index: 8u32.into(),
                len: 8
            })
        );
        assert!(matches!(
            list.get(StatusIndex::from(u64::MAX)),
            Err(LookupError::OutOfRange { .. })
        ));
    }

    #[test]
    fn set_out_of_range_is_rejected() {
        let mut list = StatusList::new(Bits::One, 8);
        assert_eq!(
            list.set(8u32.into(), StatusType::Invalid),
            Err(UpdateError::OutOfRange {
                index: 8u32.into(),
                len: 8
            })
        );
    }

    #[test]
    fn set_value_too_wide_is_rejected() {
        let mut list = StatusList::new(Bits::One, 8);
        assert_eq!(
            list.set(0u32.into(), StatusType::Suspended),
            Err(UpdateError::ValueTooWide {
                status: StatusType::Suspended,
                bits: Bits::One
            })
        );
        let mut list = StatusList::new(Bits::Four, 8);
        assert!(matches!(
            list.set(0u32.into(), StatusType::from(0x10)),
            Err(UpdateError::ValueTooWide { .. })
        ));
        assert!(list.set(0u32.into(), StatusType::from(0x0F)).is_ok());
    }

    #[test]
    fn debug_does_not_dump_entries() {
        let list = StatusList::new(Bits::One, 1 << 20);
        assert_eq!(
            format!("{list:?}"),
            "StatusList { bits: One, len: 1048576, .. }"
        );
    }
}
