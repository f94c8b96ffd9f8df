#!/usr/bin/python3
"""Embed a folder of migration files in a C source file.

Usage: embed_sql.py --symbol NAME SRC_DIR OUT.c

Writes OUT.c defining `const keel_migration_t NAME[]` and
`const size_t NAME_count` (see include/keel/migrate.h), one entry per file,
sorted by number, each holding the file's exact bytes.  Declare them in the
app with KEEL_MIGRATIONS_DECLARE(NAME).

Rules, checked before anything is written (exit status 1 and one line
"embed_sql: PATH: reason" per problem):
  - every file is NNNN_words.sql, NNNN_words.sqlite.sql or
    NNNN_words.postgres.sql (four digits; words: a-z, 0-9, _; the name
    without .sql at most 63 bytes); dotfiles and README* are ignored;
  - numbers may have gaps but never repeat, except for the two dialect
    files of one migration, which must both exist and share the name;
  - contents are UTF-8 without NUL bytes.

The output depends only on the files' names and bytes and on the arguments,
so two runs give the same file byte for byte; it is written to a temporary
file and renamed, so a failed run never leaves a half-written OUT.c.
"""
import argparse
import os
import re
import sys

FILE = re.compile(r"^(?P<name>[0-9]{4}_[a-z0-9_]+)"
                  r"(?:\.(?P<dialect>sqlite|postgres))?\.sql$")
SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAME_MAX = 63
DIALECTS = ("postgres", "sqlite")
# ISO C requires compilers to accept string literals of 4095 bytes; longer
# files become a brace-enclosed byte array so -Wpedantic stays quiet.
LITERAL_MAX = 4000


class Migration:
    def __init__(self, path, name, dialect, data):
        self.path, self.name, self.dialect, self.data = (path, name,
                                                         dialect, data)

    @property
    def number(self):
        return int(self.name[:4])


def ignored(entry):
    return entry.startswith(".") or entry.startswith("README")


def read_folder(folder, errors):
    """The folder's migrations, unsorted; problems appended to errors."""
    found = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if ignored(entry):
            continue
        m = FILE.match(entry)
        if not os.path.isfile(path):
            errors.append(f"{path}: not a file")
        elif not m:
            errors.append(f"{path}: bad name: want NNNN_words.sql, "
                          "NNNN_words.sqlite.sql or NNNN_words.postgres.sql"
                          " (four digits, then lowercase letters, digits "
                          "and underscores)")
        elif len(m.group("name")) > NAME_MAX:
            errors.append(f"{path}: name longer than {NAME_MAX} bytes")
        else:
            with open(path, "rb") as f:
                data = f.read()
            if check_bytes(path, data, errors):
                found.append(Migration(path, m.group("name"),
                                       m.group("dialect"), data))
    return found


def check_bytes(path, data, errors):
    if b"\0" in data:
        errors.append(f"{path}: holds a NUL byte")
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        errors.append(f"{path}: not UTF-8 (byte {e.start})")
        return False
    return True


def check_numbers(migrations, errors):
    """One portable file per number, or exactly one same-named pair of
    dialect files."""
    by_number = {}
    for m in migrations:
        by_number.setdefault(m.number, []).append(m)
    for number in sorted(by_number):
        group = by_number[number]
        names = sorted({m.name for m in group})
        dialects = sorted(m.dialect or "" for m in group)
        paths = ", ".join(sorted(os.path.basename(m.path) for m in group))
        where = os.path.dirname(group[0].path)
        if len(names) > 1 or (len(group) > 1 and
                              dialects != list(DIALECTS)):
            errors.append(f"{where}: number {number:04d} used more than "
                          f"once ({paths}); numbers may have gaps but "
                          "never repeat")
        elif len(group) == 1 and group[0].dialect:
            other = [d for d in DIALECTS if d != group[0].dialect][0]
            errors.append(f"{group[0].path}: has no {names[0]}.{other}.sql"
                          ": a dialect-specific migration needs both files")


def c_literal_lines(data):
    """The bytes as C string literal pieces, one per source line.  Octal
    escapes are three digits so the next byte can never extend them, and
    '??' is broken up because -std=c17 turns on trigraphs."""
    pieces, cur, prev = [], [], 0
    for b in data:
        if b == 0x5C:
            cur.append("\\\\")
        elif b == 0x22:
            cur.append('\\"')
        elif b == 0x0A:
            cur.append("\\n")
        elif b == 0x09:
            cur.append("\\t")
        elif b == 0x3F and prev == 0x3F:
            cur.append("\\?")
        elif 0x20 <= b < 0x7F:
            cur.append(chr(b))
        else:
            cur.append(f"\\{b:03o}")
        prev = b
        if b == 0x0A:
            pieces.append("".join(cur))
            cur = []
    if cur or not pieces:
        pieces.append("".join(cur))
    return [f'"{p}"' for p in pieces]


def c_bytes_lines(data):
    """The bytes plus a NUL as a brace-enclosed initializer, 12 a line."""
    vals = [f"0x{b:02x}" for b in data] + ["0x00"]
    return [", ".join(vals[i:i + 12]) + ","
            for i in range(0, len(vals), 12)]


def var_name(symbol, m):
    return f"{symbol}_{m.name}" + (f"_{m.dialect}" if m.dialect else "")


def render(symbol, source, migrations):
    source = source.replace("*/", "*_/")
    out = [f"/* Generated by tools/embed_sql.py from {source}: do not edit."
           " */",
           "#include <stddef.h>", "", '#include "keel/migrate.h"', "",
           f"KEEL_MIGRATIONS_DECLARE({symbol});", ""]
    for m in migrations:
        out.append(f"/* {os.path.basename(m.path)}: {len(m.data)} bytes */")
        if len(m.data) <= LITERAL_MAX:
            out.append(f"static const char {var_name(symbol, m)}[] =")
            out.extend("\t" + line for line in c_literal_lines(m.data))
            out[-1] += ";"
        else:
            out.append(f"static const char {var_name(symbol, m)}[] = {{")
            out.extend("\t" + line for line in c_bytes_lines(m.data))
            out.append("};")
        out.append("")
    out.append(f"const keel_migration_t {symbol}[] = {{")
    for m in migrations:
        dialect = f'"{m.dialect}"' if m.dialect else "NULL"
        out.append(f'\t{{"{m.name}", {var_name(symbol, m)}, {len(m.data)}, '
                   f"{dialect}}},")
    if not migrations:
        out.append("\t{NULL, NULL, 0, NULL}, /* C has no empty arrays */")
    out.append("};")
    out.append(f"const size_t {symbol}_count = {len(migrations)};")
    return "\n".join(out) + "\n"


def write_atomically(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--symbol", required=True,
                    help="C name of the array, e.g. conduit_migrations")
    ap.add_argument("folder")
    ap.add_argument("out")
    args = ap.parse_args(argv[1:])
    errors = []
    if not SYMBOL.match(args.symbol):
        errors.append(f"--symbol {args.symbol}: not a C identifier")
    if not os.path.isdir(args.folder):
        errors.append(f"{args.folder}: not a folder")
    migrations = read_folder(args.folder, errors) if not errors else []
    check_numbers(migrations, errors)
    for e in errors:
        print(f"embed_sql: {e}", file=sys.stderr)
    if errors:
        return 1
    migrations.sort(key=lambda m: (m.number, m.dialect or ""))
    write_atomically(args.out, render(args.symbol, args.folder, migrations))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
