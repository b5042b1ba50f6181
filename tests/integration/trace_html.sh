#!/bin/bash
# SPDX-License-Identifier: MIT
# bridle trace --format html on a real run (trace_lib.sh), loaded in headless
# Chromium (Debian's chromium): the DOM has the summary, the cost table, the
# decisions, one timeline row per span, the tool's arguments and output; the
# page's inline script ran; the markup a tool printed stayed text (no <img>,
# no <script> from it); a screenshot is written to the test's output
# ($BRIDLE_BUILDDIR/meson-logs/trace-html.png) and is a non-empty PNG.
. "$(dirname "$0")/lib.sh"

CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || skip "chromium is not installed (scripts/install-deps installs it)"

. "$(dirname "$0")/trace_lib.sh"
trace_run

run "$BRIDLE" trace "$RUN" --format html --out "$T/trace.html" --journal "$JOURNAL"
assert_rc 0 "trace --format html"
run "$BRIDLE" trace "$RUN" --format jsonl --journal "$JOURNAL"
SPANS=$(printf '%s\n' "$OUT" | grep -c .)

# chromium as root needs --no-sandbox; its own profile in $T; no network at all.
chrome() {
        timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
                --user-data-dir="$T/chrome" --proxy-server=127.0.0.1:9 --hide-scrollbars "$@" 2>>"$T/chrome.err"
}
chrome --dump-dom "file://$T/trace.html" >"$T/dom.html" || true
[ -s "$T/dom.html" ] || { tail -n 20 "$T/chrome.err" >&2; fail "chromium --dump-dom printed nothing"; }
"$PY" - "$T/dom.html" "$SPANS" "$RUN" "$TOKEN" <<'PY' || fail "the page's DOM: see above"
import sys
from html.parser import HTMLParser
dom = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.rows, self.stack, self.text = [], {}, 0, [], {}
        self.body = {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "body":
            self.body = a
        if "id" in a:
            self.ids[a["id"]] = tag
        if tag == "details" and "span" in a.get("class", "").split():
            self.rows += 1
        cls = a.get("class", "")
        self.stack.append(cls if tag == "pre" else None)
    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
    def handle_data(self, data):
        if self.stack and self.stack[-1]:
            self.text.setdefault(self.stack[-1], []).append(data)
p = P()
p.feed(dom)
for i in ("summary", "timeline", "models", "tools", "decisions", "run-id", "status", "cost"):
    assert i in p.ids, "no #%s in the DOM" % i
assert p.body.get("data-ready") == "1", "the page's inline script did not run: %r" % p.body
assert p.rows == int(sys.argv[2]), "%d timeline rows for %s spans" % (p.rows, sys.argv[2])
assert "img" not in p.tags, "an <img> element: the tool's markup was not escaped"
assert p.tags.count("script") == 1, "a <script> element besides the page's own"
outs = "".join(p.text.get("output", []))
assert "<script>alert(1)</script><img src=x onerror=alert(2)>" in outs, "the tool output is not shown as text"
args = "".join(p.text.get("args", []))
assert "touch done.txt" in args and "notes.txt" in args, "the tool arguments are not shown"
assert sys.argv[3] in dom and sys.argv[4] not in dom
assert "completed" in dom and "gpt-4o-mini" in dom and "nothing is deleted here" in dom
PY
ok "DOM: summary, cost by model, tools, decisions, one row per span, arguments and outputs as text, the script ran, no injected elements"

SHOT_DIR=${BRIDLE_BUILDDIR:+$BRIDLE_BUILDDIR/meson-logs}
SHOT_DIR=${SHOT_DIR:-$T}
mkdir -p "$SHOT_DIR"
SHOT=$SHOT_DIR/trace-html.png
rm -f "$SHOT"
chrome --window-size=1280,1600 --screenshot="$SHOT" "file://$T/trace.html" >/dev/null || true
[ -s "$SHOT" ] || { tail -n 20 "$T/chrome.err" >&2; fail "no screenshot at $SHOT"; }
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$SHOT is not a PNG"
ok "screenshot: $SHOT ($(stat -c %s "$SHOT") bytes)"
