//! Writes a benchmark corpus: `scan_corpus DIR TOTAL_MB FILES DENSITY`. Mixed Chinese and
//! English text with planted identifiers at the given density (fraction of sentences);
//! prints the number of planted valid identifiers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a generator: fail loudly

#[path = "../tests/support/corpus.rs"]
mod corpus;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: scan_corpus DIR TOTAL_MB FILES DENSITY");
        std::process::exit(2);
    }
    let dir = std::path::Path::new(&args[1]);
    let total: usize = args[2].parse::<usize>().unwrap() << 20;
    let files: usize = args[3].parse().unwrap();
    let density: f64 = args[4].parse().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    // Generate one 16 MiB block per seed and repeat blocks to size: fast, still varied.
    let block = 16 << 20;
    let blocks: Vec<corpus::Corpus> = (0..4)
        .map(|i| corpus::generate(1000 + i, block, density))
        .collect();
    let mut planted = 0;
    for f in 0..files {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(dir.join(format!("part-{f:03}.txt"))).unwrap(),
        );
        let mut written = 0;
        let mut i = f;
        while written < total / files {
            let b = &blocks[i % blocks.len()];
            std::io::Write::write_all(&mut out, b.text.as_bytes()).unwrap();
            written += b.text.len();
            planted += b.planted.len();
            i += 1;
        }
    }
    println!("{planted}");
}
