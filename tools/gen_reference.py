#!/usr/bin/python3
"""Generate docs/reference.md from the public headers.

Usage: gen_reference.py [--check]

Every header in include/keel/ contributes a section: its opening comment
(what the module does), then each KEEL_API declaration with the /** */
comment above it.  A declaration without such a comment is an error, so
the reference cannot silently miss a function.  --check compares the
result with the committed file and fails when they differ (CI runs it
through tests/integration/test_docs.py).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADERS = ROOT / "include" / "keel"
OUT = ROOT / "docs" / "reference.md"

DOC_DECL = re.compile(
    r"/\*\*(?P<doc>(?:(?!\*/).)*)\*/\s*(?P<decl>KEEL_API\b[^;{]*?[;{])",
    re.S)
ANY_DECL = re.compile(r"\bKEEL_API\b[^;{]*?[;{]", re.S)
NAME = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def clean_comment(text):
    lines = []
    for line in text.strip().split("\n"):
        line = line.strip()
        if line.startswith("*"):
            line = line[1:].strip()
        lines.append(line)
    return " ".join(l for l in lines if l).strip()


def header_intro(text):
    m = re.match(r"\s*/\*(.*?)\*/", text, re.S)
    if not m:
        return ""
    body = []
    for line in m.group(1).split("\n"):
        line = line.strip()
        if line.startswith("*"):
            line = line[1:]
            if line.startswith(" "):
                line = line[1:]
        body.append(line.rstrip())
    return "\n".join(body).strip()


def squash(decl):
    decl = re.sub(r"\s+", " ", decl.strip().rstrip(";{").strip())
    return decl.replace("KEEL_API ", "", 1)


def module_section(path, problems):
    text = path.read_text()
    code = re.sub(r"#\s*define[^\n]*(\\\n[^\n]*)*", " ", text)
    documented = {}
    for m in DOC_DECL.finditer(code):
        decl = m.group("decl")
        name = NAME.search(decl)
        key = name.group(1) if name else squash(decl)
        documented[key] = (clean_comment(m.group("doc")), squash(decl))
    entries = []
    for m in ANY_DECL.finditer(code):
        name = NAME.search(m.group(0))
        key = name.group(1) if name else squash(m.group(0))
        if key not in documented:
            problems.append(f"{path.relative_to(ROOT)}: {key} has no /** */ "
                            "comment")
            continue
        entries.append((key, *documented[key]))
    out = [f"## `keel/{path.name}`", ""]
    intro = re.sub(r"^keel/\S+\.h\s+-\s+", "", header_intro(text))
    if intro:
        out += [intro, ""]
    for key, doc, decl in entries:
        out += [f"### `{key}`", "", "```c", decl + ";", "```", "", doc, ""]
    return out


def generate():
    problems = []
    lines = ["# API reference", "",
             "Generated from the public headers by `tools/gen_reference.py`;",
             "do not edit by hand.  Each entry is a `KEEL_API` declaration",
             "and the comment above it in `include/keel/`.", ""]
    for path in sorted(HEADERS.glob("*.h")):
        lines += module_section(path, problems)
    return "\n".join(lines).rstrip() + "\n", problems


def main(argv):
    text, problems = generate()
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/reference.md is out of date: run "
                  "tools/gen_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
