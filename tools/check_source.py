#!/usr/bin/python3
"""Fail on banned C functions, and on SQL built by formatting, in keel's
sources.

Usage: check_source.py FILE_OR_DIR...

strcpy, strcat, sprintf, vsprintf, gets, atoi, atol and strtok either write
past a buffer without a bound or hide parse errors; keel uses its buffer,
slice and strict integer helpers instead.  A printf-style call whose format
is SQL with a conversion in it ("SELECT ... WHERE id = %d") is how SQL
injection starts: values must be bound to $N placeholders instead.  Comments and string literals are
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


FORMAT_CALL = re.compile(
    r"(?<![A-Za-z0-9_])(snprintf|vsnprintf|keel_buf_appendf|keel_buf_vappendf"
    r"|keel_res_printf|asprintf|fprintf)\s*\(")
SQL_FORMAT = re.compile(
    r"(?is)^\s*(select|insert|update|delete|create|drop|alter|replace)\b"
    r".*%[-+ #0-9.]*[sdiuxfgcp]")
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def sql_formatting(text, code):
    """Lines where a printf-style call gets a literal SQL format with a
    conversion.  `code` (comments and strings blanked) finds real calls;
    `text` supplies the literal."""
    found = []
    for m in FORMAT_CALL.finditer(code):
        window = text[m.end():m.end() + 400]
        lit = LITERAL.search(window)
        if lit and SQL_FORMAT.search(lit.group(1)):
            line = text.count("\n", 0, m.start()) + 1
            found.append((line, m.group(1)))
    return found


def check_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    code = blank_comments_and_strings(text)
    found = [f"{path}:{line}: SQL built by formatting in {fn}; bind values "
             "to $N placeholders" for line, fn in sql_formatting(text, code)]
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
