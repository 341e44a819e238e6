//! The detectors: one pass over UTF-8 bytes for identifiers, SIMD substring search for
//! classification markings.
//!
//! Speed comes from skipping: eight bytes at a time are tested for anything that can start an
//! identifier (a digit, `:` or `@`); only then does a detector look closer. Precision comes
//! from structure, not patterns alone: check characters (GB 11643 MOD 11-2, GB 32100, Luhn),
//! real birth dates, real province codes, and token boundaries — a candidate that is part of
//! a longer run of letters or digits is never a match.

use memchr::memmem;
use serde::Serialize;

use dengbao_core::ids::{CreditCode, DivisionCode};

/// What was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 居民身份证号码, 18 characters (GB 11643).
    ResidentId,
    /// First-generation 15-digit resident ID.
    ResidentIdLegacy,
    /// 统一社会信用代码 (GB 32100).
    CreditCode,
    BankCard,
    /// Mainland mobile number.
    Mobile,
    Passport,
    Email,
    Ipv4,
    Ipv6,
    /// 密级 marking: the file must not be shared at all.
    Classification,
    /// A word from a user keyword list.
    Keyword,
    /// A user regular-expression detector.
    Custom,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::ResidentId,
        Kind::ResidentIdLegacy,
        Kind::CreditCode,
        Kind::BankCard,
        Kind::Mobile,
        Kind::Passport,
        Kind::Email,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Classification,
        Kind::Keyword,
        Kind::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ResidentId => "resident_id",
            Kind::ResidentIdLegacy => "resident_id_legacy",
            Kind::CreditCode => "credit_code",
            Kind::BankCard => "bank_card",
            Kind::Mobile => "mobile",
            Kind::Passport => "passport",
            Kind::Email => "email",
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Classification => "classification",
            Kind::Keyword => "keyword",
            Kind::Custom => "custom",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Kind::ResidentId => {
                "Resident identity card number (GB 11643, check character verified)"
            }
            Kind::ResidentIdLegacy => "Legacy 15-digit resident identity card number",
            Kind::CreditCode => "Unified Social Credit Code (GB 32100, check character verified)",
            Kind::BankCard => "Bank card number (Luhn verified)",
            Kind::Mobile => "Mainland China mobile number",
            Kind::Passport => "Passport number",
            Kind::Email => "E-mail address",
            Kind::Ipv4 => "IPv4 address",
            Kind::Ipv6 => "IPv6 address",
            Kind::Classification => {
                "State-secret classification marking (密级): must not be shared"
            }
            Kind::Keyword => "User keyword",
            Kind::Custom => "User-defined detector",
        }
    }
}

/// How sure the detector is that the match is what it says.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One match in a buffer: byte range, kind, confidence, and for user detectors its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
    /// Index of the user keyword list or regex detector (0 for built-in kinds).
    pub rule: u16,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Nonzero iff some byte of `x` is in `0x30..=0x3A` (a digit or `:`), or is `@`.
#[inline(always)]
fn interesting(x: u64) -> u64 {
    // "Has a byte between m and n" (m < b < n, both ≤ 128), from the classic bit hacks.
    let (m, n) = (0x2Fu64, 0x3Bu64);
    let low7 = x & (LO * 127);
    let between =
        ((LO * (127 + n)).wrapping_sub(low7) & !x & low7.wrapping_add(LO * (127 - m))) & HI;
    let at = x ^ (LO * 0x40);
    let has_at = at.wrapping_sub(LO) & !at & HI;
    between | has_at
}

#[inline]
fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn run_end(buf: &[u8], mut i: usize, f: impl Fn(u8) -> bool) -> usize {
    while i < buf.len() && f(buf[i]) {
        i += 1;
    }
    i
}

fn run_start(buf: &[u8], mut i: usize, f: impl Fn(u8) -> bool) -> usize {
    while i > 0 && f(buf[i - 1]) {
        i -= 1;
    }
    i
}

/// Whether one of `words` ends within `window` bytes before `at` (context keywords).
fn context_before(buf: &[u8], at: usize, window: usize, words: &[&[u8]]) -> bool {
    let from = at.saturating_sub(window);
    let hay = &buf[from..at];
    words.iter().any(|w| memmem::find(hay, w).is_some())
}

const PHONE_WORDS: &[&[u8]] = &[
    "手机".as_bytes(),
    "电话".as_bytes(),
    "联系".as_bytes(),
    b"Tel",
    b"tel",
    b"TEL",
    b"Mobile",
    b"mobile",
    b"Phone",
    b"phone",
];
const CREDIT_WORDS: &[&[u8]] = &[
    "信用代码".as_bytes(),
    "税号".as_bytes(),
    "纳税人识别号".as_bytes(),
    b"USCC",
    b"credit code",
    b"Credit Code",
];
const PASSPORT_WORDS: &[&[u8]] = &["护照".as_bytes(), b"passport", b"Passport", b"PASSPORT"];

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// GB 11643 check character for the first 17 digits.
pub fn resident_id_check(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    ID_CHECK[(sum % 11) as usize]
}

fn valid_ymd(y: u32, m: u32, d: u32) -> bool {
    if !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0, |a, c| a * 10 + u32::from(c - b'0'))
}

/// An 18-character resident ID: `High` if division, birth date and check character are
/// right; `Low` if only the check character is wrong (a typo is still personal data).
pub fn resident_id18(t: &[u8]) -> Option<Confidence> {
    if t.len() != 18
        || !t[..17].iter().all(u8::is_ascii_digit)
        || !(t[17].is_ascii_digit() || t[17] == b'X' || t[17] == b'x')
    {
        return None;
    }
    DivisionCode::from_bytes(&t[..6])?;
    let y = num(&t[6..10]);
    if !(1900..=2099).contains(&y) || !valid_ymd(y, num(&t[10..12]), num(&t[12..14])) {
        return None;
    }
    Some(
        if resident_id_check(&t[..17]) == t[17].to_ascii_uppercase() {
            Confidence::High
        } else {
            Confidence::Low
        },
    )
}

fn resident_id15(t: &[u8]) -> bool {
    t.len() == 15
        && t.iter().all(u8::is_ascii_digit)
        && DivisionCode::from_bytes(&t[..6]).is_some()
        && valid_ymd(1900 + num(&t[6..8]), num(&t[8..10]), num(&t[10..12]))
}

/// A Unified Social Credit Code with a valid check character and structure.
pub fn credit_code(t: &[u8]) -> bool {
    t.len() == 18
        && b"123456789ANY".contains(&t[0])
        && (t[1].is_ascii_digit() && t[1] != b'0')
        && DivisionCode::from_bytes(&t[2..8]).is_some()
        && CreditCode::check_char(&t[..17]) == Some(t[17])
}

/// Luhn (ISO/IEC 7812) check over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

fn bank_card(d: &[u8]) -> Option<Confidence> {
    if !(16..=19).contains(&d.len()) || !luhn(d) || d.iter().all(|c| *c == d[0]) {
        return None;
    }
    Some(match (d[0], d[1]) {
        (b'6', b'2') => Confidence::High, // UnionPay
        (b'4', _)
        | (b'5', b'1'..=b'5')
        | (b'2', b'2'..=b'7')
        | (b'3', b'5')
        | (b'6', b'0' | b'5') => Confidence::Medium,
        _ => Confidence::Low,
    })
}

fn mobile11(d: &[u8]) -> bool {
    d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1])
}

fn passport(t: &[u8]) -> bool {
    match t {
        [b'E' | b'G', rest @ ..] if rest.len() == 8 && rest.iter().all(u8::is_ascii_digit) => true,
        [b'E', l, rest @ ..]
            if l.is_ascii_uppercase()
                && !matches!(l, b'I' | b'O')
                && rest.len() == 7
                && rest.iter().all(u8::is_ascii_digit) =>
        {
            true
        }
        _ => false,
    }
}

/// The identifier and marking detectors.
pub struct Detectors {
    mi: memmem::Finder<'static>,
    neibu: memmem::Finder<'static>,
}

impl Default for Detectors {
    fn default() -> Self {
        Detectors::new()
    }
}

const MI: &str = "密";
const STAR: &[u8] = "★".as_bytes();

impl Detectors {
    pub fn new() -> Detectors {
        Detectors {
            mi: memmem::Finder::new(MI.as_bytes()).into_owned(),
            neibu: memmem::Finder::new("内部".as_bytes()).into_owned(),
        }
    }

    /// Appends every identifier and marking in `buf` to `out` (unsorted).
    pub fn scan(&self, buf: &[u8], out: &mut Vec<Hit>) {
        self.identifiers(buf, out);
        self.markings(buf, out);
    }

    fn identifiers(&self, buf: &[u8], out: &mut Vec<Hit>) {
        let n = buf.len();
        let mut i = 0;
        while i < n {
            // 32 bytes per step while nothing can start here, then 8, then byte by byte.
            while i + 32 <= n {
                let w = |k: usize| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&buf[i + k..i + k + 8]);
                    interesting(u64::from_le_bytes(b))
                };
                if (w(0) | w(8) | w(16) | w(24)) != 0 {
                    break;
                }
                i += 32;
            }
            while i + 8 <= n {
                let mut w = [0u8; 8];
                w.copy_from_slice(&buf[i..i + 8]);
                if interesting(u64::from_le_bytes(w)) != 0 {
                    break;
                }
                i += 8;
            }
            if i >= n {
                break;
            }
            i = match buf[i] {
                b'0'..=b'9' => self.digits(buf, i, out),
                b':' => self.colon(buf, i, out),
                b'@' => self.at(buf, i, out),
                _ => i + 1,
            };
        }
    }

    fn push(out: &mut Vec<Hit>, kind: Kind, start: usize, end: usize, confidence: Confidence) {
        out.push(Hit {
            kind,
            start,
            end,
            confidence,
            rule: 0,
        });
    }

    /// At the first digit of a run: decide what the token around it is. Returns where to
    /// continue.
    fn digits(&self, buf: &[u8], s: usize, out: &mut Vec<Hit>) -> usize {
        let e = run_end(buf, s, |b| b.is_ascii_digit());
        let ts = run_start(buf, s, is_alnum);
        let te = run_end(buf, e, is_alnum);
        let next = buf.get(te).copied();
        let tok = &buf[ts..te];
        if next == Some(b'@') {
            return te; // the local part of an e-mail address: `at` handles it
        }
        if next == Some(b':') && tok.len() <= 4 && tok.iter().all(u8::is_ascii_hexdigit) {
            if let Some(end) = self.ipv6(buf, ts, out) {
                return end;
            }
            return te;
        }
        if tok.len() == 18 {
            // A valid ID wins; otherwise an all-digit run may be a Luhn-valid card (62… is
            // both UnionPay and Gansu's province code), then an ID with a wrong check
            // character, then a credit code.
            let id = resident_id18(tok);
            let card = if ts == s && te == e {
                bank_card(tok)
            } else {
                None
            };
            match (id, card) {
                (Some(Confidence::High), _) => {
                    Self::push(out, Kind::ResidentId, ts, te, Confidence::High)
                }
                (_, Some(c)) => Self::push(out, Kind::BankCard, ts, te, c),
                (Some(c), None) => Self::push(out, Kind::ResidentId, ts, te, c),
                (None, None) if credit_code(tok) => {
                    // An all-digit code passes the check by chance one time in 31; without
                    // letters it needs a label nearby to be certain.
                    let c = if tok.iter().any(u8::is_ascii_alphabetic)
                        || context_before(buf, ts, 48, CREDIT_WORDS)
                    {
                        Confidence::High
                    } else {
                        Confidence::Medium
                    };
                    Self::push(out, Kind::CreditCode, ts, te, c);
                }
                _ => {}
            }
            return te;
        }
        if ts < s {
            // Letters before the digits: passport numbers are the only such identifiers here.
            if passport(tok) {
                let c = if context_before(buf, ts, 48, PASSPORT_WORDS) {
                    Confidence::High
                } else {
                    Confidence::Low
                };
                Self::push(out, Kind::Passport, ts, te, c);
            }
            return te;
        }
        if te > e {
            return te; // digits followed by letters: a code, not a number
        }
        // A decimal fraction or a dotted sequence is not an identifier.
        let after_dot_digit = s >= 2 && buf[s - 1] == b'.' && buf[s - 2].is_ascii_digit();
        if next == Some(b'.') && buf.get(e + 1).is_some_and(u8::is_ascii_digit) {
            if !after_dot_digit && e - s <= 3 {
                if let Some(end) = self.ipv4(buf, s, out) {
                    return end;
                }
            }
            return run_end(buf, e, |b| b.is_ascii_digit() || b == b'.');
        }
        if after_dot_digit {
            return e;
        }
        self.number(buf, s, e, out)
    }

    /// A run of digits, possibly grouped with single spaces or dashes (`138 0013 8000`,
    /// `6222 0212 3456 7890`), possibly after `+86`.
    fn number(&self, buf: &[u8], s: usize, e: usize, out: &mut Vec<Hit>) -> usize {
        let plus = s > 0 && buf[s - 1] == b'+';
        let mut digits = [0u8; 24];
        let mut nd = 0;
        let mut groups = [0u8; 8];
        let mut ng = 0;
        let first = e - s;
        if first <= digits.len() {
            digits[..first].copy_from_slice(&buf[s..e]);
            nd = first;
            groups[0] = first as u8;
            ng = 1;
            // Follow further groups with the same separator.
            let sep = buf.get(e).copied().filter(|b| *b == b' ' || *b == b'-');
            if let Some(sep) = sep {
                let mut p = e;
                while ng < groups.len()
                    && buf.get(p) == Some(&sep)
                    && buf.get(p + 1).is_some_and(u8::is_ascii_digit)
                {
                    let ge = run_end(buf, p + 1, |b| b.is_ascii_digit());
                    let len = ge - (p + 1);
                    if !(1..=6).contains(&len)
                        || nd + len > digits.len()
                        || buf.get(ge).is_some_and(|b| is_alnum(*b))
                    {
                        break;
                    }
                    digits[nd..nd + len].copy_from_slice(&buf[p + 1..ge]);
                    nd += len;
                    groups[ng] = len as u8;
                    ng += 1;
                    p = ge;
                }
            }
        }
        let d = &digits[..nd];
        let g = &groups[..ng];
        // Ungrouped forms first (only the first run counts).
        if ng == 1 || first > 6 {
            let r = &buf[s..e];
            let phone_ctx = || plus || context_before(buf, s, 24, PHONE_WORDS);
            if mobile11(r) {
                let c = if phone_ctx() {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                Self::push(out, Kind::Mobile, s - usize::from(plus), e, c);
            } else if r.len() == 13 && r.starts_with(b"86") && mobile11(&r[2..]) {
                Self::push(
                    out,
                    Kind::Mobile,
                    s - usize::from(plus),
                    e,
                    if plus {
                        Confidence::High
                    } else {
                        Confidence::Medium
                    },
                );
            } else if r.len() == 15 && r.starts_with(b"0086") && mobile11(&r[4..]) {
                Self::push(out, Kind::Mobile, s, e, Confidence::High);
            } else if r.len() == 15 && resident_id15(r) {
                Self::push(out, Kind::ResidentIdLegacy, s, e, Confidence::Medium);
            } else if let Some(c) = bank_card(r) {
                Self::push(out, Kind::BankCard, s, e, c);
            }
            return e;
        }
        // Grouped forms.
        let cut = |k: usize| {
            // End offset after the first k groups.
            let mut p = s;
            for (i, len) in g.iter().take(k).enumerate() {
                p += usize::from(*len) + usize::from(i > 0);
            }
            p
        };
        if g.len() >= 3 && g[..3] == [3, 4, 4] && mobile11(&d[..11]) {
            Self::push(
                out,
                Kind::Mobile,
                s - usize::from(plus),
                cut(3),
                Confidence::High,
            );
            return cut(3);
        }
        if g.len() >= 4
            && g[0] == 2
            && &d[..2] == b"86"
            && g[1..4] == [3, 4, 4]
            && mobile11(&d[2..13])
        {
            Self::push(
                out,
                Kind::Mobile,
                s - usize::from(plus),
                cut(4),
                Confidence::High,
            );
            return cut(4);
        }
        if g.len() >= 4 && g[..4].iter().all(|l| *l == 4) {
            let k = if g.len() >= 5 && (1..=3).contains(&g[4]) {
                5
            } else {
                4
            };
            let total: usize = g[..k].iter().map(|l| usize::from(*l)).sum();
            if let Some(c) = bank_card(&d[..total]) {
                Self::push(out, Kind::BankCard, s, cut(k), c);
                return cut(k);
            }
        }
        e
    }

    fn ipv4(&self, buf: &[u8], s: usize, out: &mut Vec<Hit>) -> Option<usize> {
        let mut p = s;
        let mut octets = [0u32; 4];
        for (k, o) in octets.iter_mut().enumerate() {
            let oe = run_end(buf, p, |b| b.is_ascii_digit());
            let len = oe - p;
            if !(1..=3).contains(&len) || (len > 1 && buf[p] == b'0') {
                return None;
            }
            *o = num(&buf[p..oe]);
            if *o > 255 {
                return None;
            }
            p = oe;
            if k < 3 {
                if buf.get(p) != Some(&b'.') {
                    return None;
                }
                p += 1;
            }
        }
        // Part of a longer dotted run (a version number, an OID) is not an address.
        if buf.get(p).is_some_and(|b| is_alnum(*b))
            || (buf.get(p) == Some(&b'.') && buf.get(p + 1).is_some_and(u8::is_ascii_digit))
        {
            return None;
        }
        let c = if octets[0] == 127 || octets == [0, 0, 0, 0] {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        Self::push(out, Kind::Ipv4, s, p, c);
        Some(p)
    }

    fn ipv6(&self, buf: &[u8], s: usize, out: &mut Vec<Hit>) -> Option<usize> {
        if s > 0 && (buf[s - 1].is_ascii_hexdigit() || buf[s - 1] == b':' || buf[s - 1] == b'.') {
            return None;
        }
        let e = run_end(buf, s, |b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        let e = e.min(s + 45);
        if buf.get(e).is_some_and(|b| is_alnum(*b)) {
            return None;
        }
        let raw = &buf[s..e];
        let colons = raw.iter().filter(|b| **b == b':').count();
        // Cheap rejection of times like 12:30:45: an address has `::`, a hex letter, or
        // all seven colons.
        let plausible = memchr::memmem::find(raw, b"::").is_some()
            || raw.iter().any(|b| b.is_ascii_alphabetic())
            || colons >= 7;
        if colons < 2 || !plausible {
            return None;
        }
        let cand = std::str::from_utf8(raw).ok()?;
        let addr: std::net::Ipv6Addr = cand.parse().ok()?;
        let c = if addr.is_loopback() || addr.is_unspecified() {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        Self::push(out, Kind::Ipv6, s, e, c);
        Some(e)
    }

    fn colon(&self, buf: &[u8], i: usize, out: &mut Vec<Hit>) -> usize {
        // Only "::…" can start an IPv6 address at a colon; others start at a hex digit.
        if buf.get(i + 1) == Some(&b':') {
            if let Some(end) = self.ipv6(buf, i, out) {
                return end;
            }
        }
        i + 1
    }

    fn at(&self, buf: &[u8], i: usize, out: &mut Vec<Hit>) -> usize {
        let local_ok = |b: u8| is_alnum(b) || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
        let ls = run_start(buf, i, local_ok);
        let de = run_end(buf, i + 1, |b| is_alnum(b) || b == b'.' || b == b'-');
        // Trailing dots end a sentence, not a domain.
        let mut de = de;
        while de > i + 1 && buf[de - 1] == b'.' {
            de -= 1;
        }
        let local = &buf[ls..i];
        let domain = &buf[i + 1..de];
        let ok = !local.is_empty()
            && local.len() <= 64
            && local[0] != b'.'
            && local[local.len() - 1] != b'.'
            && domain.len() <= 253
            && domain
                .split(|b| *b == b'.')
                .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-')
            && domain.iter().filter(|b| **b == b'.').count() >= 1
            && domain
                .rsplit(|b| *b == b'.')
                .next()
                .is_some_and(|tld| tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic));
        if ok {
            Self::push(out, Kind::Email, ls, de, Confidence::High);
            return de;
        }
        i + 1
    }

    /// Classification markings: 绝密/机密/秘密 with ★ and a period (`机密★10年`,
    /// `秘密★长期`), a `密级：` field, a marking alone on its line, and 内部 forms.
    fn markings(&self, buf: &[u8], out: &mut Vec<Hit>) {
        const JUE: &[u8] = "绝".as_bytes();
        const JI: &[u8] = "机".as_bytes();
        const BI: &[u8] = "秘".as_bytes();
        const JI2: &[u8] = "级".as_bytes();
        let mut skip_until = 0;
        for p in self.mi.find_iter(buf) {
            if p < skip_until {
                continue;
            }
            let after = p + 3;
            if buf[after..].starts_with(JI2) {
                // 密级：<level>
                let mut q = after + 3;
                q = skip_ws(buf, q);
                if buf[q..].starts_with("：".as_bytes()) {
                    q += 3;
                } else if buf.get(q) == Some(&b':') {
                    q += 1;
                } else {
                    continue;
                }
                q = skip_ws(buf, q);
                let level = &buf[q..];
                let lev_len = if level.starts_with("绝密".as_bytes())
                    || level.starts_with("机密".as_bytes())
                    || level.starts_with("秘密".as_bytes())
                    || level.starts_with("内部".as_bytes())
                {
                    6
                } else {
                    continue;
                };
                let end = period_end(buf, q + lev_len);
                Self::push(out, Kind::Classification, p, end, Confidence::High);
                skip_until = end;
                continue;
            }
            if p < 3 {
                continue;
            }
            let prev = &buf[p - 3..p];
            if prev != JUE && prev != JI && prev != BI {
                continue;
            }
            let s = p - 3;
            // 商业秘密 / 商业机密: trade secrets are not state-secret markings.
            if s >= 6 && &buf[s - 6..s] == "商业".as_bytes() {
                continue;
            }
            if buf[after..].starts_with(STAR) {
                let end = period_end(buf, after + STAR.len());
                Self::push(out, Kind::Classification, s, end, Confidence::High);
                skip_until = end;
            } else if alone_on_line(buf, s, after) {
                Self::push(out, Kind::Classification, s, after, Confidence::Medium);
                skip_until = after;
            }
        }
        for p in self.neibu.find_iter(buf) {
            let after = p + 6;
            let rest = &buf[after..];
            if rest.starts_with(STAR) {
                let end = period_end(buf, after + STAR.len());
                Self::push(out, Kind::Classification, p, end, Confidence::High);
            } else if ["资料", "文件", "使用", "材料"]
                .iter()
                .any(|w| rest.starts_with(w.as_bytes()))
                || alone_on_line(buf, p, after)
            {
                // Avoid double-reporting 密级：内部, already found above.
                let reported = out
                    .iter()
                    .any(|h| h.kind == Kind::Classification && h.start <= p && h.end >= after);
                if !reported {
                    Self::push(
                        out,
                        Kind::Classification,
                        p,
                        after + if alone_on_line(buf, p, after) { 0 } else { 6 },
                        Confidence::Medium,
                    );
                }
            }
        }
    }
}

fn skip_ws(buf: &[u8], mut q: usize) -> usize {
    while q < buf.len() && (buf[q] == b' ' || buf[q] == b'\t') {
        q += 1;
    }
    q
}

/// After a ★: a period such as `长期`, `10年`, `6个月`, or nothing.
fn period_end(buf: &[u8], q: usize) -> usize {
    let rest = &buf[q..];
    if rest.starts_with("长期".as_bytes()) {
        return q + 6;
    }
    let d = run_end(buf, q, |b| b.is_ascii_digit());
    if d > q && d - q <= 3 {
        if buf[d..].starts_with("年".as_bytes()) {
            return d + 3;
        }
        if buf[d..].starts_with("个月".as_bytes()) {
            return d + 6;
        }
    }
    q
}

/// Whether `buf[s..e]` is the only text on its line (allowing blanks and brackets).
fn alone_on_line(buf: &[u8], s: usize, e: usize) -> bool {
    let open: [&[u8]; 4] = ["【".as_bytes(), "〔".as_bytes(), b"[", b"("];
    let close: [&[u8]; 4] = ["】".as_bytes(), "〕".as_bytes(), b"]", b")"];
    let mut a = s;
    loop {
        while a > 0 && matches!(buf[a - 1], b' ' | b'\t') {
            a -= 1;
        }
        match open.iter().find(|o| buf[..a].ends_with(o)) {
            Some(o) => a -= o.len(),
            None => break,
        }
    }
    let mut b = e;
    loop {
        while b < buf.len() && matches!(buf[b], b' ' | b'\t' | b'\r') {
            b += 1;
        }
        match close.iter().find(|c| buf[b..].starts_with(c)) {
            Some(c) => b += c.len(),
            None => break,
        }
    }
    (a == 0 || buf[a - 1] == b'\n') && (b == buf.len() || buf[b] == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(text: &str) -> Vec<(Kind, String, Confidence)> {
        let mut v = Vec::new();
        Detectors::new().scan(text.as_bytes(), &mut v);
        v.sort_by_key(|h| h.start);
        v.into_iter()
            .map(|h| (h.kind, text[h.start..h.end].to_owned(), h.confidence))
            .collect()
    }

    fn id_with_check(first17: &str) -> String {
        format!("{first17}{}", resident_id_check(first17.as_bytes()) as char)
    }

    #[test]
    fn resident_ids() {
        let good = id_with_check("11010519491231002");
        assert_eq!(good, "11010519491231002X");
        assert_eq!(
            hits(&format!("身份证号：{good}。")),
            [(Kind::ResidentId, good.clone(), Confidence::High)]
        );
        // Lower-case x is accepted.
        assert_eq!(hits(&good.to_lowercase())[0].2, Confidence::High);
        // Wrong check character: reported, but never at high confidence.
        let bad = format!("{}1", &good[..17]);
        assert_eq!(
            hits(&bad),
            [(Kind::ResidentId, bad.clone(), Confidence::Low)]
        );
        // Impossible birth date or province: not an ID.
        assert!(
            hits(&id_with_check("11010519490231002"))
                .iter()
                .all(|h| h.0 != Kind::ResidentId),
            "30 Feb"
        );
        assert!(
            hits(&id_with_check("99010519491231002"))
                .iter()
                .all(|h| h.0 != Kind::ResidentId),
            "province 99"
        );
        // Embedded in a longer digit run: no match.
        assert!(hits(&format!("9{good}")).is_empty());
        assert!(hits(&format!("{good}7")).is_empty());
        assert!(hits(&format!("A{good}")).is_empty());
        // Legacy 15 digits.
        assert_eq!(hits("旧证 110105491231002 ")[0].0, Kind::ResidentIdLegacy);
        assert_eq!(hits("旧证 110105491231002 ")[0].2, Confidence::Medium);
    }

    #[test]
    fn credit_codes() {
        assert_eq!(
            hits("信用代码 91310115MA1K4XYW1X;"),
            [(
                Kind::CreditCode,
                "91310115MA1K4XYW1X".into(),
                Confidence::High
            )]
        );
        assert!(
            hits("91310115MA1K4XYW15").is_empty(),
            "wrong check character"
        );
        assert!(hits("091310115MA1K4XYW1X").is_empty(), "embedded");
        // All digits: certain only with a label.
        let digits = "911101086000300052"; // check character 2 (GB 32100), not Luhn-valid
        assert_eq!(
            hits(digits)[0],
            (Kind::CreditCode, digits.to_owned(), Confidence::Medium)
        );
        assert_eq!(
            hits(&format!("纳税人识别号：{digits}"))[0].2,
            Confidence::High
        );
    }

    #[test]
    fn bank_cards() {
        // 6222021234567890128 is Luhn-valid (computed), UnionPay prefix.
        let mut d = b"622202123456789012".to_vec();
        let check = (0..10u8)
            .find(|c| {
                let mut x = d.clone();
                x.push(b'0' + c);
                luhn(&x)
            })
            .unwrap();
        d.push(b'0' + check);
        let card = String::from_utf8(d).unwrap();
        assert_eq!(
            hits(&format!("卡号{card}")),
            [(Kind::BankCard, card.clone(), Confidence::High)]
        );
        let grouped = format!(
            "{} {} {} {} {}",
            &card[..4],
            &card[4..8],
            &card[8..12],
            &card[12..16],
            &card[16..]
        );
        assert_eq!(
            hits(&grouped),
            [(Kind::BankCard, grouped.clone(), Confidence::High)]
        );
        let mut wrong = card.into_bytes();
        wrong[18] = b'0' + (check + 1) % 10;
        assert!(
            hits(std::str::from_utf8(&wrong).unwrap()).is_empty(),
            "Luhn fails"
        );
        assert!(hits("0000000000000000").is_empty());
    }

    #[test]
    fn mobiles() {
        assert_eq!(
            hits("13800138000"),
            [(Kind::Mobile, "13800138000".into(), Confidence::Medium)]
        );
        assert_eq!(hits("手机：13800138000")[0].2, Confidence::High);
        assert_eq!(
            hits("+8613800138000"),
            [(Kind::Mobile, "+8613800138000".into(), Confidence::High)]
        );
        assert_eq!(
            hits("call 138 0013 8000 now"),
            [(Kind::Mobile, "138 0013 8000".into(), Confidence::High)]
        );
        assert_eq!(
            hits("call 138-0013-8000."),
            [(Kind::Mobile, "138-0013-8000".into(), Confidence::High)]
        );
        assert_eq!(
            hits("+86 138 0013 8000"),
            [(Kind::Mobile, "+86 138 0013 8000".into(), Confidence::High)]
        );
        assert!(
            hits("12800138000").is_empty(),
            "12x is not a mobile segment"
        );
        assert!(hits("138001380001").is_empty(), "12 digits");
        assert!(hits("3.13800138000").is_empty(), "decimal fraction");
        assert!(hits("order_id=A13800138000").is_empty(), "part of a code");
    }

    #[test]
    fn passports_emails_ips() {
        assert_eq!(
            hits("护照号码 E12345678")[0],
            (Kind::Passport, "E12345678".into(), Confidence::High)
        );
        assert_eq!(hits("ref E12345678")[0].2, Confidence::Low);
        assert_eq!(hits("EA1234567 passport")[0].0, Kind::Passport);
        assert_eq!(
            hits("mail zhang.san+x@example.com.cn."),
            [(
                Kind::Email,
                "zhang.san+x@example.com.cn".into(),
                Confidence::High
            )]
        );
        assert_eq!(hits("13800138000@qq.com")[0].0, Kind::Email);
        assert!(hits("a@b").is_empty() && hits("@home").is_empty());
        assert_eq!(
            hits("from 10.2.3.40 to"),
            [(Kind::Ipv4, "10.2.3.40".into(), Confidence::Medium)]
        );
        assert!(
            hits("version 1.2.3.4.5").is_empty()
                && hits("256.1.1.1").is_empty()
                && hits("1.02.3.4").is_empty()
        );
        assert_eq!(
            hits("addr 2001:db8::8a2e:370:7334 ok"),
            [(
                Kind::Ipv6,
                "2001:db8::8a2e:370:7334".into(),
                Confidence::Medium
            )]
        );
        assert_eq!(hits("fe80::1 x")[0].0, Kind::Ipv6);
        assert_eq!(hits("::1")[0], (Kind::Ipv6, "::1".into(), Confidence::Low));
        assert!(hits("at 12:30:45 today").is_empty());
    }

    #[test]
    fn classification_markings() {
        assert_eq!(
            hits("机密★10年"),
            [(Kind::Classification, "机密★10年".into(), Confidence::High)]
        );
        assert_eq!(hits("文件 绝密★长期 内容")[0].1, "绝密★长期");
        assert_eq!(hits("秘密★")[0].1, "秘密★");
        assert_eq!(
            hits("密级：机密\n正文")[0],
            (Kind::Classification, "密级：机密".into(), Confidence::High)
        );
        assert_eq!(hits("密级: 内部")[0].1, "密级: 内部");
        assert_eq!(
            hits("标题\n  【秘密】  \n正文")[0],
            (Kind::Classification, "秘密".into(), Confidence::Medium)
        );
        assert_eq!(hits("内部★")[0].2, Confidence::High);
        assert_eq!(hits("内部资料 请勿外传")[0].1, "内部资料");
        // Prose is not a marking.
        assert!(hits("保护商业秘密是企业的责任").is_empty());
        assert!(hits("他说这是一个秘密计划").is_empty());
        assert!(hits("公司内部管理制度").is_empty());
        assert!(hits("密级：公开").is_empty());
    }
}
