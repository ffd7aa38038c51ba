#!/usr/bin/env bash
# Renders a report.html in headless Chromium and checks the screenshot is not blank.
#
#   scripts/check_report_in_chromium.sh REPORT.html OUT.png [WIDTH,HEIGHT]
#
# Needs Debian's `chromium` (apt-get install -y chromium) and python3 (standard library only:
# the PNG is decoded with zlib, so no Pillow). Exits non-zero when Chromium fails, the
# screenshot is missing, or it is (nearly) one colour.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]" >&2
  exit 2
fi
report=$(realpath "$1")
out=$2
size=${3:-1400,2000}
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$chromium" ]]; then
  echo "chromium not found: apt-get install -y chromium" >&2
  exit 2
fi
[[ -f "$report" ]] || { echo "no such file: $report" >&2; exit 2; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
# No network is needed: the report must be self-contained, and these flags keep Chromium
# from phoning home.
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" --window-size="$size" \
  --screenshot="$out" "file://$report" >/dev/null 2>&1 || true
[[ -s "$out" ]] || { echo "chromium wrote no screenshot" >&2; exit 1; }

python3 - "$out" <<'PY'
import struct, sys, zlib

path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"{path}: not a PNG")
pos, idat, header = 8, b"", None
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, colour = header[:4]
if depth != 8 or colour not in (2, 6):
    sys.exit(f"{path}: unexpected PNG format depth={depth} colour={colour}")
bpp = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), width * bpp
prev, rows = bytearray(stride), []
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
# Grey level of every 4th pixel of every 4th row: enough to tell a page from a blank one.
grey = [sum(r[x:x + 3]) / 3 for r in rows[::4] for x in range(0, stride, 4 * bpp)]
mean = sum(grey) / len(grey)
var = sum((g - mean) ** 2 for g in grey) / len(grey)
non_bg = sum(1 for g in grey if abs(g - grey[0]) > 24) / len(grey)
print(f"{path}: {width}x{height}, grey mean {mean:.1f}, variance {var:.1f}, "
      f"{100 * non_bg:.1f}% pixels differ from the background")
if var < 50 or non_bg < 0.02:
    sys.exit(f"{path}: screenshot looks blank")
PY
