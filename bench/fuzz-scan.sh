#!/usr/bin/env bash
# Fuzzes dengbao-scan's decoding and extraction path with libFuzzer (cargo-fuzz) for
# $1 seconds (default 600). Not part of CI. Seeds: text in several encodings and a docx.
set -euo pipefail
cd "$(dirname "$0")/../crates/dengbao-scan"
secs="${1:-600}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
seeds=fuzz/corpus/decode_extract
mkdir -p "$seeds"
printf '身份证 11010519491231002X 手机 138-0013-8000\n机密★10年\n' > "$seeds/utf8.txt"
python3 - "$seeds" <<'PY'
import sys, zipfile, pathlib
d = pathlib.Path(sys.argv[1])
t = "客户 13800138000 zhang@example.com 密级：秘密\n"
(d / "utf16.txt").write_bytes(b"\xff\xfe" + t.encode("utf-16-le"))
(d / "gb18030.txt").write_bytes(t.encode("gb18030"))
with zipfile.ZipFile(d / "doc.docx", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("word/document.xml", "<w:document><w:p><w:r><w:t>6222 0212 3456 7890 128 &amp; E12345678</w:t></w:r></w:p></w:document>")
PY
# Stable toolchain: no sanitizer, and RUSTC_BOOTSTRAP for the fuzzing instrumentation flags.
RUSTC_BOOTSTRAP=1 cargo fuzz run -s none decode_extract "$seeds" -- -max_total_time="$secs" -rss_limit_mb=2048
