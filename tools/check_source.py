#!/usr/bin/python3
"""Fail on banned C functions in keel's sources.

Usage: check_source.py FILE_OR_DIR...

strcpy, strcat, sprintf, vsprintf, gets, atoi, atol and strtok either write
past a buffer without a bound or hide parse errors; keel uses its buffer,
slice and strict integer helpers instead.  Comments and string literals are
ignored so that prose may name the functions it avoids.  Exit status 1 and one
line "path:line: banned function NAME" per use when any is found.
"""
import os
import re
import sys

BANNED = ("strcpy", "strcat", "sprintf", "vsprintf", "gets", "atoi", "atol",
          "strtok")
CALL = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(BANNED) + r")\s*\(")


def blank_comments_and_strings(text):
    """Replace comments and string/char literals by spaces, keeping newlines
    so that line numbers stay right."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        code = blank_comments_and_strings(f.read())
    found = []
    for lineno, line in enumerate(code.split("\n"), 1):
        for m in CALL.finditer(line):
            found.append(f"{path}:{lineno}: banned function {m.group(1)}")
    return found


def sources(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                for name in sorted(files):
                    if name.endswith((".c", ".h")):
                        yield os.path.join(root, name)
        elif os.path.exists(p):
            yield p


def main(argv):
    problems = []
    for path in sources(argv[1:]):
        problems.extend(check_file(path))
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
