//! A labelled corpus: realistic Chinese and English text with planted identifiers, valid
//! (recorded, with their byte spans) and invalid (wrong check characters, non-Luhn numbers,
//! timestamps, order numbers — recorded nowhere, so any high-confidence report of them is a
//! false positive). Shared by the accuracy tests, `examples/scan_eval.rs` and the benchmark
//! corpus generator.

#![allow(dead_code)]

use dengbao_core::ids::CreditCode;
use dengbao_scan::detect::{Kind, luhn, resident_id_check};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const DIVISIONS: [&str; 10] = [
    "110105", "310115", "440305", "510107", "330106", "420102", "320102", "370102", "500103",
    "610113",
];

pub fn resident_id(r: &mut Rng) -> String {
    let y = 1950 + r.below(56);
    let m = 1 + r.below(12);
    let d = 1 + r.below(28);
    let first = format!("{}{y:04}{m:02}{d:02}{}", r.pick(&DIVISIONS), r.digits(3));
    format!("{first}{}", resident_id_check(first.as_bytes()) as char)
}

pub fn resident_id_wrong_check(r: &mut Rng) -> String {
    let good = resident_id(r);
    let c = good.as_bytes()[17];
    let alts: Vec<u8> = b"0123456789X".iter().copied().filter(|x| *x != c).collect();
    format!("{}{}", &good[..17], *r.pick(&alts) as char)
}

const USCC: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

pub fn credit_code(r: &mut Rng) -> String {
    let mut s = format!("91{}", r.pick(&DIVISIONS));
    for _ in 0..9 {
        s.push(USCC[r.below(31)] as char);
    }
    let c = CreditCode::check_char(s.as_bytes()).unwrap_or(b'0');
    s.push(c as char);
    s
}

fn with_luhn(mut body: String) -> String {
    let c = (0..10u8)
        .find(|c| luhn(format!("{body}{c}").as_bytes()))
        .unwrap_or(0);
    body.push(char::from(b'0' + c));
    body
}

pub fn unionpay_card(r: &mut Rng) -> String {
    let len = 16 + r.below(4);
    with_luhn(format!("62{}", r.digits(len - 3)))
}

pub fn card_wrong_luhn(r: &mut Rng) -> String {
    let good = unionpay_card(r);
    let last = good.as_bytes()[good.len() - 1] - b'0';
    format!(
        "{}{}",
        &good[..good.len() - 1],
        (last + 1 + r.below(8) as u8) % 10
    )
}

pub fn mobile(r: &mut Rng) -> String {
    format!("1{}{}", 3 + r.below(7), r.digits(9))
}

const PINYIN: [&str; 12] = [
    "zhang.wei",
    "li.na",
    "wang.fang",
    "liu.yang",
    "chen.jing",
    "yang.lei",
    "huang.min",
    "zhao.qiang",
    "wu.xia",
    "zhou.jun",
    "xu.li",
    "sun.hao",
];
const DOMAINS: [&str; 5] = [
    "example.com",
    "163.com",
    "qq.com",
    "corp.example.cn",
    "mail.example.org",
];

const ZH: [&str; 24] = [
    "本季度数据中心的运维工作总体平稳",
    "机房温湿度监控系统运行正常",
    "请各部门于月底前提交年度安全自查报告",
    "等级保护测评机构已完成现场测评",
    "客户服务中心收到的投诉数量较上月有所下降",
    "网络边界防护设备的策略已按要求更新",
    "备份系统每日凌晨执行增量备份",
    "应急预案演练安排在下周三下午",
    "安全管理制度的修订稿已提交审议",
    "业务系统的访问日志保留六个月以上",
    "运维人员须使用堡垒机登录服务器",
    "数据分类分级工作正在有序推进",
    "供应商评估结果将在会议上通报",
    "项目组讨论了容灾切换的技术方案",
    "培训材料已上传至内部知识库供大家学习",
    "本次变更不影响对外服务",
    "公司坚持依法合规经营的原则",
    "新版本上线前完成了回归测试",
    "各分支机构的网络接入情况良好",
    "会议纪要如下请查收",
    "用户满意度调查问卷已经发放",
    "加密设备的密钥管理符合规定",
    "系统巡检未发现高危漏洞",
    "下一阶段重点是完善监测预警能力",
];
const EN: [&str; 16] = [
    "The quarterly review of the data centre operations found no major issues",
    "Please submit the annual self-inspection report by the end of the month",
    "Backups run incrementally every night and fully every Sunday",
    "The evaluation agency completed its on-site assessment last week",
    "Firewall policies were updated according to the change request",
    "All administrators must log in through the bastion host",
    "Access logs are retained for at least six months",
    "The disaster recovery drill is scheduled for Wednesday afternoon",
    "Customer satisfaction improved slightly compared with last quarter",
    "No high-risk vulnerabilities were found during the routine inspection",
    "Meeting notes are attached for your reference",
    "The new release passed regression testing before going live",
    "Vendor assessment results will be shared at the next meeting",
    "Key management for the encryption devices follows the policy",
    "Branch offices report stable network connectivity",
    "The next phase focuses on monitoring and early warning",
];

/// A span of a planted valid identifier in the corpus text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planted {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

pub struct Corpus {
    /// Lines joined with `\n`, ending with `\n`.
    pub text: String,
    pub planted: Vec<Planted>,
    pub lines: Vec<(usize, usize)>,
}

/// Builds a corpus of about `bytes` bytes in which a fraction `density` of sentences carries
/// an identifier (half valid, half a look-alike that is not).
pub fn generate(seed: u64, bytes: usize, density: f64) -> Corpus {
    let mut r = Rng::new(seed);
    let mut text = String::with_capacity(bytes + 512);
    let mut planted = Vec::new();
    let mut lines = Vec::new();
    let threshold = (density * 1_000_000.0) as usize;
    while text.len() < bytes {
        let line_start = text.len();
        let sentences = 1 + r.below(4);
        for k in 0..sentences {
            let zh = r.below(3) != 0;
            if zh {
                text.push_str(r.pick::<&str>(&ZH));
            } else {
                if k > 0 {
                    text.push(' ');
                }
                text.push_str(r.pick::<&str>(&EN));
            }
            // Ordinary numbers that are not identifiers appear everywhere.
            match r.below(6) {
                0 => text.push_str(&format!(
                    "，金额 {}.{:02} 元",
                    r.below(100_000),
                    r.below(100)
                )),
                1 => text.push_str(&format!(
                    " on 2024-{:02}-{:02} at {:02}:{:02}:{:02}",
                    1 + r.below(12),
                    1 + r.below(28),
                    r.below(24),
                    r.below(60),
                    r.below(60)
                )),
                2 => text.push_str(&format!("，订单号 2024{}", r.digits(13))),
                3 => text.push_str(&format!(" (ticket #{})", r.below(1_000_000))),
                _ => {}
            }
            if r.below(1_000_000) < threshold {
                plant(&mut r, &mut text, &mut planted);
            }
            text.push_str(if zh { "。" } else { ". " });
        }
        lines.push((line_start, text.len()));
        text.push('\n');
    }
    Corpus {
        text,
        planted,
        lines,
    }
}

fn push_planted(text: &mut String, planted: &mut Vec<Planted>, kind: Kind, value: &str) {
    let start = text.len();
    text.push_str(value);
    planted.push(Planted {
        kind,
        start,
        end: text.len(),
    });
}

fn plant(r: &mut Rng, text: &mut String, planted: &mut Vec<Planted>) {
    let valid = r.below(2) == 0;
    match r.below(9) {
        0 => {
            text.push_str("，身份证号 ");
            if valid {
                let v = resident_id(r);
                push_planted(text, planted, Kind::ResidentId, &v);
            } else {
                text.push_str(&resident_id_wrong_check(r));
            }
            text.push(' ');
        }
        1 => {
            text.push_str("，统一社会信用代码 ");
            if valid {
                let v = credit_code(r);
                push_planted(text, planted, Kind::CreditCode, &v);
            } else {
                let v = credit_code(r);
                let bad = if v.ends_with('0') { '1' } else { '0' };
                text.push_str(&format!("{}{bad}", &v[..17]));
            }
        }
        2 => {
            text.push_str(" card ");
            if valid {
                let v = unionpay_card(r);
                let v = if r.below(2) == 0 {
                    v.as_bytes()
                        .chunks(4)
                        .map(|c| std::str::from_utf8(c).unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    v
                };
                push_planted(text, planted, Kind::BankCard, &v);
            } else {
                text.push_str(&card_wrong_luhn(r));
            }
        }
        3 => {
            text.push_str(r.pick::<&str>(&["，手机 ", " Tel: ", "，联系电话 ", " mobile "]));
            if valid {
                let v = mobile(r);
                let v = match r.below(3) {
                    0 => format!("{} {} {}", &v[..3], &v[3..7], &v[7..]),
                    1 => format!("+86{v}"),
                    _ => v,
                };
                push_planted(text, planted, Kind::Mobile, &v);
            } else {
                text.push_str(&format!("12{}", r.digits(9)));
            }
        }
        4 => {
            text.push_str(" contact ");
            let v = format!("{}{}@{}", r.pick(&PINYIN), r.below(100), r.pick(&DOMAINS));
            if valid {
                push_planted(text, planted, Kind::Email, &v);
            } else {
                text.push_str(&v.replace('@', " at "));
            }
        }
        5 => {
            text.push_str("，护照号码 ");
            if valid {
                let v = format!("E{}", r.digits(8));
                push_planted(text, planted, Kind::Passport, &v);
            } else {
                text.push_str(&format!("E{}", r.digits(6)));
            }
        }
        6 => {
            text.push_str(" from ");
            if valid {
                let v = format!("10.{}.{}.{}", r.below(256), r.below(256), 1 + r.below(254));
                push_planted(text, planted, Kind::Ipv4, &v);
            } else {
                text.push_str(&format!(
                    "version {}.{}.{}.{}.{}",
                    r.below(10),
                    r.below(10),
                    r.below(10),
                    r.below(10),
                    r.below(10)
                ));
            }
        }
        7 => {
            if valid {
                text.push('\n');
                let v = format!(
                    "{}★{}年",
                    r.pick(&["绝密", "机密", "秘密"]),
                    1 + r.below(30)
                );
                push_planted(text, planted, Kind::Classification, &v);
                text.push('\n');
            } else {
                text.push_str("，应保护商业秘密");
            }
        }
        _ => {
            text.push_str(" legacy ");
            if valid {
                let id = resident_id(r);
                let v = format!("{}{}", &id[..6], &id[8..17]);
                push_planted(text, planted, Kind::ResidentIdLegacy, &v);
            } else {
                text.push_str(&r.digits(14));
            }
            text.push(' ');
        }
    }
}

/// Wraps every line with a prefix and suffix (CSV, JSON lines), moving the planted spans.
pub fn wrap_lines(
    c: &Corpus,
    prefix: impl Fn(usize) -> String,
    suffix: &str,
) -> (String, Vec<Planted>) {
    let mut out = String::with_capacity(c.text.len() * 11 / 10);
    let mut planted = Vec::with_capacity(c.planted.len());
    let mut pi = 0;
    let mut line_start = 0;
    for (n, line) in c.text.split_inclusive('\n').enumerate() {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let p = prefix(n);
        let shift = out.len() + p.len();
        out.push_str(&p);
        out.push_str(body);
        out.push_str(suffix);
        out.push('\n');
        let line_end = line_start + line.len();
        while pi < c.planted.len() && c.planted[pi].start < line_end {
            let x = c.planted[pi];
            planted.push(Planted {
                kind: x.kind,
                start: x.start - line_start + shift,
                end: x.end - line_start + shift,
            });
            pi += 1;
        }
        line_start = line_end;
    }
    (out, planted)
}

/// Scores findings against the planted spans: (planted found, planted total, high-confidence
/// findings, high-confidence findings that are planted).
pub fn score(
    planted: &[Planted],
    findings: &[(Kind, u64, u64, dengbao_scan::detect::Confidence)],
) -> (usize, usize, usize, usize) {
    use std::collections::HashSet;
    let truth: HashSet<(Kind, u64, u64)> = planted
        .iter()
        .map(|p| (p.kind, p.start as u64, p.end as u64))
        .collect();
    let found: HashSet<(Kind, u64, u64)> = findings.iter().map(|f| (f.0, f.1, f.1 + f.2)).collect();
    let hit = truth.iter().filter(|t| found.contains(t)).count();
    let high: Vec<_> = findings
        .iter()
        .filter(|f| f.3 == dengbao_scan::detect::Confidence::High)
        .collect();
    let high_true = high
        .iter()
        .filter(|f| truth.contains(&(f.0, f.1, f.1 + f.2)))
        .count();
    (hit, truth.len(), high.len(), high_true)
}
