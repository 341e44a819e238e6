//! Text inside Office Open XML documents (`.docx`, `.xlsx`, `.pptx`): every XML part is read
//! with hard limits (so a zip bomb is refused, not decompressed) and reduced to its text.

use std::io::{Read, Seek};

use crate::config::Limits;

/// Extensions treated as Office Open XML archives.
pub const EXTENSIONS: [&str; 6] = ["docx", "docm", "xlsx", "xlsm", "pptx", "pptm"];

/// Calls `part(name, text)` for the text of each XML part. Returns warnings (parts skipped
/// for exceeding limits); `Err` if the file is not a readable zip archive.
pub fn extract<R: Read + Seek>(
    reader: R,
    limits: &Limits,
    part: &mut dyn FnMut(&str, &[u8]),
) -> Result<Vec<String>, String> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| format!("not a readable Office document (zip): {e}"))?;
    let mut warnings = Vec::new();
    let mut total: u64 = 0;
    let mut xml = Vec::new();
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("entry {i}: unreadable: {e}"));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                warnings.push(format!("entry {i}: unreadable name: {e}"));
                continue;
            }
        };
        if !name.ends_with(".xml") || name.contains("_rels/") || name == "[Content_Types].xml" {
            continue;
        }
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        if size > limits.max_entry_bytes || size / packed > limits.max_compression_ratio {
            warnings.push(format!("{name}: skipped, {size} bytes from {packed} compressed exceeds the limits (possible zip bomb)"));
            continue;
        }
        if total + size > limits.max_archive_bytes {
            warnings.push(format!(
                "{name}: skipped, the archive's extracted text would exceed {} bytes",
                limits.max_archive_bytes
            ));
            break;
        }
        xml.clear();
        // The declared size can lie; never read more than the limit allows.
        let cap = limits
            .max_entry_bytes
            .min(packed.saturating_mul(limits.max_compression_ratio));
        match (&mut entry).take(cap + 1).read_to_end(&mut xml) {
            Ok(_) if xml.len() as u64 > cap => {
                warnings.push(format!(
                    "{name}: skipped, expands beyond {cap} bytes (possible zip bomb)"
                ));
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                warnings.push(format!("{name}: unreadable: {e}"));
                continue;
            }
        }
        total += xml.len() as u64;
        let text = xml_text(&xml);
        part(&name, &text);
    }
    Ok(warnings)
}

/// Closing one of these ends a line of text (paragraph, table row, spreadsheet row, string).
const LINE_ENDS: [&[u8]; 6] = [b"w:p", b"a:p", b"si", b"row", b"w:tr", b"p"];
/// These separate cells or words.
const BREAKS: [&[u8]; 5] = [b"w:tab", b"w:br", b"w:cr", b"c", b"a:br"];

/// The character data of an XML document with entities decoded; paragraphs become lines.
/// Tolerant of malformed input: it never fails, it only extracts less.
pub fn xml_text(xml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len() / 3);
    let mut i = 0;
    let n = xml.len();
    while i < n {
        match xml[i] {
            b'<' => {
                let Some(gt) = memchr::memchr(b'>', &xml[i..]).map(|g| i + g) else {
                    break;
                };
                let tag = &xml[i + 1..gt];
                let closing = tag.first() == Some(&b'/');
                let body = if closing { &tag[1..] } else { tag };
                let name_end = body
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || *b == b'/')
                    .unwrap_or(body.len());
                let name = &body[..name_end];
                if closing && LINE_ENDS.contains(&name) {
                    out.push(b'\n');
                } else if BREAKS.contains(&name) && (closing || tag.last() == Some(&b'/')) {
                    out.push(b'\t');
                }
                i = gt + 1;
            }
            b'&' => {
                let end = xml[i..n.min(i + 12)]
                    .iter()
                    .position(|b| *b == b';')
                    .map(|p| i + p);
                let decoded = end.and_then(|e| entity(&xml[i + 1..e]).map(|c| (c, e)));
                match decoded {
                    Some((c, e)) => {
                        let mut b = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                        i = e + 1;
                    }
                    None => {
                        out.push(b'&');
                        i += 1;
                    }
                }
            }
            _ => {
                let next = memchr::memchr2(b'<', b'&', &xml[i..]).map_or(n, |p| i + p);
                out.extend_from_slice(&xml[i..next]);
                i = next;
            }
        }
    }
    out
}

fn entity(name: &[u8]) -> Option<char> {
    match name {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        [b'#', b'x' | b'X', hex @ ..] => u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16)
            .ok()
            .and_then(char::from_u32),
        [b'#', dec @ ..] => std::str::from_utf8(dec)
            .ok()?
            .parse()
            .ok()
            .and_then(char::from_u32),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_word_xml() {
        let xml = br#"<w:document><w:body><w:p><w:r><w:t>&#x624B;&#26426;: 138</w:t></w:r><w:r><w:t xml:space="preserve">00138000</w:t></w:r></w:p><w:p><w:r><w:t>A &amp; B &lt;x&gt; &bogus; &</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(
            String::from_utf8(xml_text(xml)).unwrap(),
            "手机: 13800138000\nA & B <x> &bogus; &\n"
        );
    }

    #[test]
    fn spreadsheet_cells_are_separated() {
        let xml = br#"<sheetData><row><c r="A1" t="s"><v>1</v></c><c r="B1"><v>13800138000</v></c></row></sheetData>"#;
        assert_eq!(
            String::from_utf8(xml_text(xml)).unwrap(),
            "1\t13800138000\t\n"
        );
    }

    #[test]
    fn malformed_xml_does_not_fail() {
        for bad in [
            &b"<w:p"[..],
            b"&#xFFFFFFFF;",
            b"&#;",
            b"<<<>>>",
            b"\xff\xfe<",
        ] {
            let _ = xml_text(bad);
        }
    }
}
