//! SM4-GCM throughput next to the raw SM4 block cipher and AES-256-GCM (same crate family),
//! and the cost of unwrapping a data key. `bench/vault.sh` prints the ratios.

#![allow(clippy::unwrap_used)] // a benchmark with a broken fixture should stop loudly

use aes_gcm::aead::array::Array;
use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit, Nonce};
use dengbao_vault::{Key, seal_with_nonce, unwrap, wrap};
use divan::{Bencher, black_box, counter::BytesCount};

const SIZE: usize = 1 << 20;

fn main() {
    divan::main();
}

#[divan::bench]
fn sm4_gcm_1mib(b: Bencher) {
    let key = Key::generate().unwrap();
    let data = vec![0x5au8; SIZE];
    b.counter(BytesCount::new(SIZE))
        .bench(|| seal_with_nonce(&key, &[7u8; 12], b"", black_box(&data)));
}

#[divan::bench]
fn sm4_block_ecb_1mib(b: Bencher) {
    use sm4::cipher::{BlockCipherEncrypt, KeyInit as _};
    let c = sm4::Sm4::new_from_slice(&[1u8; 16]).unwrap();
    let mut data = vec![Array::default(); SIZE / 16];
    b.counter(BytesCount::new(SIZE)).bench_local(|| {
        c.encrypt_blocks(black_box(&mut data));
    });
}

#[divan::bench]
fn aes256_gcm_1mib(b: Bencher) {
    let c = Aes256Gcm::new_from_slice(&[1u8; 32]).unwrap();
    let data = vec![0x5au8; SIZE];
    b.counter(BytesCount::new(SIZE)).bench(|| {
        let mut buf = black_box(&data).clone();
        c.encrypt_inout_detached(&Nonce::from([7u8; 12]), b"", buf.as_mut_slice().into())
            .map(|t| (buf, t))
    });
}

#[divan::bench]
fn unwrap_data_key(b: Bencher) {
    let kek = Key::generate().unwrap();
    let dek = Key::generate().unwrap();
    let w = wrap(&kek, &dek, b"tenant/asset").unwrap();
    b.bench(|| unwrap(&kek, black_box(&w), b"tenant/asset"));
}
