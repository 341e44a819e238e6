//! `bench/vault.sh`: SM4-GCM MB/s on one core next to the raw SM4 block cipher and to
//! AES-256-GCM (same RustCrypto family) in the same run, and the latency of unwrapping a data
//! key (p50/p99 over many unwraps).

use std::time::Instant;

use aes_gcm::aead::array::Array;
use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit, Nonce};
use dengbao_vault::{Key, seal_with_nonce, unwrap, wrap};
use sm4::cipher::BlockCipherEncrypt;

fn mbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total_mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let chunk = 1 << 20;
    let rounds = total_mib;
    let data = vec![0x5au8; chunk];

    let key = Key::generate()?;
    let t = Instant::now();
    for i in 0..rounds {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
        std::hint::black_box(seal_with_nonce(&key, &nonce, b"asset", &data)?);
    }
    let gcm = mbps(rounds * chunk, t.elapsed().as_secs_f64());

    let c = <sm4::Sm4 as sm4::cipher::KeyInit>::new_from_slice(&[1u8; 16])?;
    let mut blocks = vec![Array::default(); chunk / 16];
    let t = Instant::now();
    for _ in 0..rounds {
        c.encrypt_blocks(std::hint::black_box(&mut blocks));
    }
    let raw = mbps(rounds * chunk, t.elapsed().as_secs_f64());

    let aes = Aes256Gcm::new_from_slice(&[1u8; 32])?;
    let t = Instant::now();
    for i in 0..rounds {
        let mut buf = data.clone();
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let tag = aes
            .encrypt_inout_detached(&Nonce::from(nonce), b"asset", buf.as_mut_slice().into())
            .map_err(|e| format!("{e:?}"))?;
        std::hint::black_box((buf, tag));
    }
    let aes_mbps = mbps(rounds * chunk, t.elapsed().as_secs_f64());

    let kek = Key::generate()?;
    let dek = Key::generate()?;
    let w = wrap(&kek, &dek, b"tenant/asset")?;
    let n = 200_000;
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(unwrap(&kek, std::hint::black_box(&w), b"tenant/asset")?);
        lat.push(t.elapsed().as_nanos() as u64);
    }
    lat.sort_unstable();
    let p = |q: f64| lat[((n as f64 * q) as usize).min(n - 1)];

    println!("data: {total_mib} MiB in 1 MiB messages, one core");
    println!("SM4 block cipher (ECB, no mode) {raw:>8.1} MB/s   baseline");
    println!(
        "SM4-GCM (seal)                  {gcm:>8.1} MB/s   {:.2}x the raw block cipher",
        gcm / raw
    );
    println!(
        "AES-256-GCM (seal)              {aes_mbps:>8.1} MB/s   SM4-GCM is {:.2}x its speed",
        gcm / aes_mbps
    );
    println!(
        "data-key unwrap (SM4-GCM, 16 B): p50 {:.1} us, p99 {:.1} us over {n}",
        p(0.5) as f64 / 1e3,
        p(0.99) as f64 / 1e3
    );
    Ok(())
}
