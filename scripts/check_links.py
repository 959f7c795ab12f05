#!/usr/bin/env python3
"""Every relative link and anchor of the repository's Markdown files resolves.

For each tracked Markdown file (`git ls-files '*.md'`, or the files given as arguments), every
inline link or image `[text](target)` / `![alt](target)` and every reference definition
`[label]: target` whose target is relative (no URL scheme such as `https:` or `mailto:`, not
starting with `//`) is checked:

- the path must exist, relative to the Markdown file's folder (a leading `/` means the
  repository's root; a trailing `/` means a folder);
- a `#anchor`, on its own (this file) or after a Markdown path, must be one of that file's
  headings slugified as GitHub does (lower case; everything but letters, digits, spaces, `-` and
  `_` removed; each space a `-`; a repeated heading gets `-1`, `-2`, ...), or an explicit
  `<a name="...">` / `id="..."` anchor. Anchors into files that are not Markdown (e.g. GitHub's
  `#L10` line anchors) are not checked.

Links inside fenced code blocks and inline code are not links and are ignored.

Prints each broken link as `file:line: target: reason` and exits 1 when there is one; otherwise
prints a one-line summary and exits 0. Python 3 standard library only.
"""

import os
import re
import subprocess
import sys
import unicodedata
from urllib.parse import unquote

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
# A link's text: anything but brackets, or one level of nested brackets (may span lines).
TEXT = r"(?:[^\[\]\\]|\\.|\[(?:[^\[\]\\]|\\.)*\])*"
# A link's destination: <...>, or a run without spaces with balanced parentheses one level deep;
# then an optional title.
INLINE = re.compile(
    r"(!?)\[" + TEXT + r"\]\(\s*(<[^<>\n]*>|(?:[^\s()<>]|\([^\s()]*\))+)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"
)
REFDEF = re.compile(r"^ {0,3}\[(?:[^\[\]\\]|\\.)+\]:[ \t]*(<[^<>\n]*>|\S+)", re.M)
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
EXPLICIT = re.compile(r"<[A-Za-z][^<>]*?\b(?:name|id)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def tracked_markdown():
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.md"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    return [p for p in out.split("\0") if p]


def blank(s):
    """The same length, line breaks kept, everything else a space."""
    return re.sub(r"[^\n]", " ", s)


def strip_fences(text):
    """The text with its fenced code blocks blanked (offsets and line numbers unchanged)."""
    lines = text.split("\n")
    out = []
    fence = None  # (char, length) while inside a fenced block
    for line in lines:
        m = FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                fence = (m.group(1)[0], len(m.group(1)))
                out.append(blank(line))
            else:
                out.append(line)
        else:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= fence[1] and not m.group(2).strip():
                fence = None
            out.append(blank(line))
    return "\n".join(out)


def strip_code(text):
    """The text with fenced code blocks and inline code spans blanked (offsets and line numbers
    unchanged)."""
    prose = strip_fences(text)
    # Inline code: a run of N backticks up to the next run of exactly N, within a paragraph.
    result = []
    i = 0
    n = len(prose)
    while i < n:
        if prose[i] == "`" and (i == 0 or prose[i - 1] != "\\"):
            j = i
            while j < n and prose[j] == "`":
                j += 1
            ticks = j - i
            k = j
            end = -1
            while k < n:
                if prose[k] == "`":
                    e = k
                    while e < n and prose[e] == "`":
                        e += 1
                    if e - k == ticks:
                        end = e
                        break
                    k = e
                    continue
                if prose.startswith("\n\n", k) or re.match(r"\n[ \t]*\n", prose[k : k + 200]):
                    break  # a code span does not cross a paragraph
                k += 1
            if end == -1:
                result.append(prose[i:j])
                i = j
            else:
                result.append(blank(prose[i:end]))
                i = end
        else:
            result.append(prose[i])
            i += 1
    return "".join(result)


def heading_text(raw):
    """A heading's rendered text: links become their text, code and emphasis marks and HTML tags
    go (the slug removes their characters anyway)."""
    raw = re.sub(r"!?\[(" + TEXT + r")\]\([^)]*\)", r"\1", raw)
    raw = re.sub(r"<[^>]+>", "", raw)
    return raw.strip()


def slugify(text):
    out = []
    for ch in text.lower():
        cat = unicodedata.category(ch)
        if ch in " -" or cat[0] in "LMN" or cat == "Pc":
            out.append("-" if ch == " " else ch)
    return "".join(out)


_anchor_cache = {}


def anchors(path):
    """The anchors of a Markdown file: its headings' slugs (GitHub's, duplicates numbered) and
    its explicit name / id anchors."""
    if path in _anchor_cache:
        return _anchor_cache[path]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = strip_fences(text).split("\n")
    found = set()
    counts = {}

    def add(title):
        base = slugify(heading_text(title))
        slug = base
        if base in counts:
            counts[base] += 1
            slug = f"{base}-{counts[base]}"
        else:
            counts[base] = 0
        found.add(slug)

    prev = ""
    for line in lines:
        m = ATX.match(line)
        if m:
            add(m.group(2) or "")
        elif SETEXT.match(line) and prev.strip() and not ATX.match(prev) and not prev.lstrip().startswith(("-", "*", ">", "|")):
            add(prev.strip())
        prev = line
    for m in EXPLICIT.finditer(strip_code(text)):
        found.add(m.group(1) if m.group(1) is not None else m.group(2))
    _anchor_cache[path] = found
    return found


def targets(text):
    """(offset, target) of every link and reference definition outside code."""
    prose = strip_code(text)
    for m in INLINE.finditer(prose):
        yield m.start(2), m.group(2)
    for m in REFDEF.finditer(prose):
        yield m.start(1), m.group(1)


def check(md, problems):
    path = os.path.join(ROOT, md)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    count = 0
    for offset, target in sorted(targets(text)):
        line = text.count("\n", 0, offset) + 1
        t = target[1:-1] if target.startswith("<") and target.endswith(">") else target
        if SCHEME.match(t) or t.startswith("//"):
            continue
        count += 1
        where, _, anchor = t.partition("#")
        where = unquote(where.split("?", 1)[0])
        if where:
            base = ROOT if where.startswith("/") else os.path.dirname(path)
            dest = os.path.normpath(os.path.join(base, where.lstrip("/")))
            if where.endswith("/"):
                if not os.path.isdir(dest):
                    problems.append(f"{md}:{line}: {target}: no such folder")
                    continue
            elif not os.path.exists(dest):
                problems.append(f"{md}:{line}: {target}: no such file")
                continue
        else:
            dest = path
        if not anchor:
            continue
        if not (os.path.isfile(dest) and dest.lower().endswith((".md", ".markdown"))):
            continue
        if unquote(anchor) not in anchors(dest):
            shown = os.path.relpath(dest, ROOT)
            problems.append(f"{md}:{line}: {target}: no heading or anchor '#{unquote(anchor)}' in {shown}")
    return count


def main(argv):
    files = argv or tracked_markdown()
    problems = []
    links = 0
    for md in files:
        links += check(md, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"check_links: {len(problems)} broken of {links} relative links in {len(files)} Markdown files", file=sys.stderr)
        return 1
    print(f"check_links: {links} relative links and anchors in {len(files)} Markdown files, all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
