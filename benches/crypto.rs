//! Micro-benchmarks of the field-encryption hot paths: sealing and opening a
//! name, blind-indexing a name, wrapping and unwrapping a data key. Results
//! are in `docs/performance.md`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sanad::crypto::{BlindIndexer, DataKey, Keyring, PersonKeys, unwrap, wrap};

/// 40 characters of Arabic (with spaces): a long but ordinary full name.
const NAME: &str = "فاطمة عبد الرحمن محمد حسين الجبوري العلي";

fn field(c: &mut Criterion) {
    let keys = PersonKeys::new(DataKey::generate().expect("data key"));
    let cipher = keys.row("8d0f4a52-3b7e-4c1d-9a6f-2e5b7c9d1f30", "baghdad");
    let sealed = cipher
        .seal_text("persons", "full_name", NAME)
        .expect("seal");

    c.bench_function("seal_text (40-char Arabic name)", |b| {
        b.iter(|| cipher.seal_text("persons", "full_name", black_box(NAME)))
    });
    c.bench_function("open_text (40-char Arabic name)", |b| {
        b.iter(|| cipher.open_text("persons", "full_name", black_box(&sealed)))
    });
}

fn blind_index(c: &mut Criterion) {
    let keyring = Keyring::generate().expect("keyring");
    let indexer = BlindIndexer::new(&keyring).expect("indexer");
    c.bench_function("blind index name_tokens (40-char Arabic name)", |b| {
        b.iter(|| indexer.name_tokens(black_box(NAME)))
    });
    c.bench_function("blind index phone", |b| {
        b.iter(|| indexer.phone(black_box("0770 123 4567")))
    });
}

fn data_keys(c: &mut Criterion) {
    let keyring = Keyring::generate().expect("keyring");
    let dek = DataKey::generate().expect("data key");
    let subject = "8d0f4a52-3b7e-4c1d-9a6f-2e5b7c9d1f30";
    let wrapped = wrap(&keyring, &dek, subject).expect("wrap");
    c.bench_function("wrap data key", |b| {
        b.iter(|| wrap(&keyring, black_box(&dek), subject))
    });
    c.bench_function("unwrap data key", |b| {
        b.iter(|| unwrap(&keyring, black_box(&wrapped), subject))
    });
}

criterion_group!(benches, field, blind_index, data_keys);
criterion_main!(benches);
