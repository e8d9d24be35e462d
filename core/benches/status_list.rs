//! Status list throughput: decoding, encoding and looking up entries of a
//! 1,000,000-entry list. The target is decoding in under 5 ms.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use intyg_core::status_list::{Bits, DecodeLimits, StatusIndex, StatusList, StatusType};

const ENTRIES: usize = 1_000_000;

/// A list with about one entry in a hundred revoked and one in a thousand
/// suspended (when the width allows), spread by a fixed pseudo-random walk
/// so that the compressor sees realistic, irregular data.
fn realistic_list(bits: Bits) -> StatusList {
    let mut list = StatusList::new(bits, ENTRIES);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..ENTRIES / 100 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let index = StatusIndex::from(state % ENTRIES as u64);
        let status = if bits != Bits::One && state.is_multiple_of(10) {
            StatusType::Suspended
        } else {
            StatusType::Invalid
        };
        list.set(index, status).expect("index within the list");
    }
    list
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("status_list/decode_1M");
    for bits in [Bits::One, Bits::Two] {
        let list = realistic_list(bits);
        let lst = list.encode();
        group.throughput(Throughput::Elements(ENTRIES as u64));
        group.bench_with_input(
            BenchmarkId::new(format!("{bits}bit"), format!("lst_{}B", lst.len())),
            &lst,
            |b, lst| b.iter(|| StatusList::decode(bits, black_box(lst), DecodeLimits::default())),
        );
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("status_list/encode_1M");
    group.sample_size(20);
    for bits in [Bits::One, Bits::Two] {
        let list = realistic_list(bits);
        group.throughput(Throughput::Elements(ENTRIES as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{bits}bit")),
            &list,
            |b, list| b.iter(|| black_box(list).encode()),
        );
    }
    group.finish();
}

fn lookup(c: &mut Criterion) {
    let list = realistic_list(Bits::Two);
    let indices: Vec<StatusIndex> = (0..1024u64)
        .map(|i| StatusIndex::from(i * 977 % ENTRIES as u64))
        .collect();
    let mut group = c.benchmark_group("status_list/lookup");
    group.throughput(Throughput::Elements(indices.len() as u64));
    group.bench_function("2bit_1024_random", |b| {
        b.iter(|| {
            indices
                .iter()
                .filter(|&&index| list.get(black_box(index)) != Ok(StatusType::Valid))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, decode, encode, lookup);
criterion_main!(benches);
