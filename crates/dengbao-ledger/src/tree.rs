//! The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1) with SM3 (GB/T 32905) as the hash:
//! leaf hash `SM3(0x00 ‖ entry)`, node hash `SM3(0x01 ‖ left ‖ right)`.
//!
//! [`Tree`] keeps every complete, aligned subtree's hash (level k holds the hashes of the
//! 2^k-leaf subtrees), so any subtree hash the proofs need is either stored or assembled from
//! O(log n) stored ones: proof generation costs O(log² n) hashes at worst, appends amortized
//! O(1).

use sm3::{Digest, Sm3};

use crate::LedgerError;

pub type Hash = [u8; 32];

/// Plain SM3 of some bytes.
pub fn sm3(data: &[u8]) -> Hash {
    Sm3::digest(data).into()
}

/// SM3 of `0x00 ‖ entry`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sm3::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// SM3 of `0x01 ‖ left ‖ right`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sm3::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SM3 of the empty string.
pub fn empty_root() -> Hash {
    Sm3::digest([]).into()
}

/// Largest power of two strictly less than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// An append-only Merkle tree over leaf hashes.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// `levels[k][i]` = hash of leaves `[i·2^k, (i+1)·2^k)`.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            levels: vec![Vec::new()],
        }
    }

    /// Builds a tree from leaf hashes.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> Tree {
        let mut t = Tree::new();
        for l in leaves {
            t.push(l);
        }
        t
    }

    /// Builds a tree from all its leaf hashes at once, hashing each level's pairs on
    /// `threads` threads (the pairs of a level are independent) — for full verification.
    pub fn from_leaves_parallel(leaves: Vec<Hash>, threads: usize) -> Tree {
        let threads = threads.max(1);
        let mut levels = vec![leaves];
        while let Some(prev) = levels.last().filter(|l| l.len() >= 2) {
            let pairs = prev.len() / 2;
            let mut next = vec![[0u8; 32]; pairs];
            let per = pairs.div_ceil(threads).max(1024);
            std::thread::scope(|s| {
                for (i, out) in next.chunks_mut(per).enumerate() {
                    let src = &prev[2 * i * per..];
                    s.spawn(move || {
                        for (j, o) in out.iter_mut().enumerate() {
                            *o = node_hash(&src[2 * j], &src[2 * j + 1]);
                        }
                    });
                }
            });
            levels.push(next);
        }
        Tree { levels }
    }

    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a leaf hash, completing the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut k = 0;
        while self.levels[k].len() % 2 == 0 {
            let n = self.levels[k].len();
            let h = node_hash(&self.levels[k][n - 2], &self.levels[k][n - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(h);
            k += 1;
        }
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// MTH of leaves `[start, start + n)`; `start` is aligned as the RFC's recursion makes it.
    fn mth(&self, start: u64, n: u64) -> Hash {
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start % n == 0 {
            let k = n.trailing_zeros() as usize;
            if let Some(h) = self
                .levels
                .get(k)
                .and_then(|l| l.get((start >> k) as usize))
            {
                return *h;
            }
        }
        let k = split(n);
        node_hash(&self.mth(start, k), &self.mth(start + k, n - k))
    }

    /// The root of the tree's first `size` leaves (its state when it had that many).
    pub fn root_at(&self, size: u64) -> Result<Hash, LedgerError> {
        if size > self.len() {
            return Err(LedgerError::Range(format!(
                "tree size {size} is beyond the log's {}",
                self.len()
            )));
        }
        Ok(self.mth(0, size))
    }

    pub fn root(&self) -> Hash {
        self.mth(0, self.len())
    }

    /// Audit path for leaf `index` in the tree of `size` leaves (RFC 6962 §2.1.1 PATH).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        if size > self.len() || index >= size {
            return Err(LedgerError::Range(format!(
                "no leaf {index} in a tree of {size} (the log has {})",
                self.len()
            )));
        }
        let mut out = Vec::with_capacity(64);
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.mth(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.mth(start, k));
        }
    }

    /// Consistency proof from the tree of `old` leaves to that of `new` (RFC 6962 §2.1.2).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        if new > self.len() || old > new {
            return Err(LedgerError::Range(format!(
                "no consistency proof from {old} to {new} (the log has {})",
                self.len()
            )));
        }
        let mut out = Vec::with_capacity(64);
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut out);
        }
        Ok(out)
    }

    fn subproof(&self, m: u64, start: u64, n: u64, whole: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !whole {
                out.push(self.mth(start, n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, k, whole, out);
            out.push(self.mth(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.mth(start, k));
        }
    }
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Checks a consistency proof between two tree heads (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        // The empty tree is a prefix of every tree; nothing to prove.
        return proof.is_empty() && *old_root == empty_root();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(h: &[u8]) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// GB/T 32905-2016 Appendix A examples.
    #[test]
    fn sm3_known_answers() {
        assert_eq!(
            hex(&Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex(&Sm3::digest("abcd".repeat(16).as_bytes())),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        assert_eq!(
            hex(&empty_root()),
            "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
        );
    }

    /// The RFC's recursive definition, computed naively, for cross-checking.
    fn mth_naive(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth_naive(&leaves[..k]), &mth_naive(&leaves[k..]))
            }
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    /// Every tree size 1..=64: roots, every inclusion proof, every consistency proof, and
    /// their rejection when anything is changed.
    #[test]
    fn all_sizes_up_to_64() {
        let all = leaves(64);
        let tree = Tree::from_leaves(all.iter().copied());
        for n in 1..=64u64 {
            let root = tree.root_at(n).unwrap();
            assert_eq!(root, mth_naive(&all[..n as usize]), "root {n}");
            for i in 0..n {
                let p = tree.inclusion_proof(i, n).unwrap();
                assert!(
                    verify_inclusion(i, n, &all[i as usize], &p, &root),
                    "inclusion {i}/{n}"
                );
                // A tampered entry, a wrong index, a wrong size, a tampered path: all rejected.
                assert!(!verify_inclusion(i, n, &leaf_hash(b"tampered"), &p, &root));
                if n > 1 {
                    assert!(
                        !verify_inclusion((i + 1) % n, n, &all[i as usize], &p, &root),
                        "wrong index {i}/{n}"
                    );
                }
                // A size/root pair comes signed together; against the next tree's root the
                // proof fails.
                let next = mth_naive(&[&all[..n as usize], &[leaf_hash(b"next")]].concat());
                assert!(
                    !verify_inclusion(i, n + 1, &all[i as usize], &p, &next),
                    "stale proof {i}/{n}"
                );
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(i, n, &all[i as usize], &bad, &root));
                    assert!(
                        !verify_inclusion(i, n, &all[i as usize], &p[..p.len() - 1], &root),
                        "short path"
                    );
                }
            }
            for m in 0..=n {
                let old = tree.root_at(m).unwrap();
                let p = tree.consistency_proof(m, n).unwrap();
                assert!(
                    verify_consistency(m, n, &old, &root, &p),
                    "consistency {m}→{n}"
                );
                if m > 0 && m < n {
                    // A forked history: same size, different old root.
                    let forked =
                        mth_naive(&[&all[..m as usize - 1], &[leaf_hash(b"fork")]].concat());
                    assert!(
                        !verify_consistency(m, n, &forked, &root, &p),
                        "fork {m}→{n}"
                    );
                    assert!(!verify_consistency(m, n, &old, &leaf_hash(b"other"), &p));
                    if m + 1 < n {
                        assert!(
                            !verify_consistency(m + 1, n, &old, &root, &p),
                            "wrong size {m}→{n}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn out_of_range_requests_are_errors() {
        let t = Tree::from_leaves(leaves(5));
        assert!(t.inclusion_proof(5, 5).is_err());
        assert!(t.inclusion_proof(0, 6).is_err());
        assert!(t.consistency_proof(3, 6).is_err());
        assert!(t.consistency_proof(4, 3).is_err());
        assert!(t.root_at(6).is_err());
        assert!(!verify_inclusion(5, 5, &leaves(1)[0], &[], &t.root()));
    }

    #[test]
    fn parallel_build_matches_appends() {
        for n in [0u64, 1, 2, 3, 5, 1023, 1024, 1025, 5000] {
            let all = leaves(n);
            let a = Tree::from_leaves(all.iter().copied());
            let b = Tree::from_leaves_parallel(all.clone(), 3);
            assert_eq!(a.root(), b.root(), "{n}");
            assert_eq!(a.len(), b.len());
            if n > 2 {
                assert_eq!(
                    a.inclusion_proof(n / 2, n).unwrap(),
                    b.inclusion_proof(n / 2, n).unwrap()
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Larger random sizes: proofs verify, and a tampered leaf never does.
        #[test]
        fn random_large_trees(n in 65u64..3000, seed in any::<u64>()) {
            let all = leaves(n);
            let tree = Tree::from_leaves(all.iter().copied());
            let root = tree.root();
            prop_assert_eq!(root, mth_naive(&all));
            let i = seed % n;
            let p = tree.inclusion_proof(i, n).unwrap();
            prop_assert!(verify_inclusion(i, n, &all[i as usize], &p, &root));
            prop_assert!(!verify_inclusion(i, n, &leaf_hash(b"x"), &p, &root));
            let m = 1 + (seed / 7) % (n - 1);
            let old = tree.root_at(m).unwrap();
            let c = tree.consistency_proof(m, n).unwrap();
            prop_assert!(verify_consistency(m, n, &old, &root, &c));
            let mut bad = c.clone();
            bad[0][0] ^= 1;
            prop_assert!(!verify_consistency(m, n, &old, &root, &bad));
        }
    }
}
