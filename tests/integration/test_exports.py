"""libkeel.so exports exactly the functions its public headers mark KEEL_API.

The library is built with -fvisibility=hidden; a missing KEEL_API makes a
documented function unusable from the shared library, and a stray export
leaks an internal symbol into every program's namespace.
"""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DECL = re.compile(r"\bKEEL_API\b([^;{]*?)\b([A-Za-z_]\w*)\s*(\(|;|\[)", re.S)


def declared_symbols():
    names = set()
    for header in sorted((ROOT / "include" / "keel").glob("*.h")):
        text = header.read_text()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"#\s*define[^\n]*(\\\n[^\n]*)*", " ", text)
        for m in DECL.finditer(text):
            names.add(m.group(2))
    return names


def exported_symbols():
    lib = ROOT / os.environ.get("KEEL_RELEASE", "build/release") / "libkeel.so"
    out = subprocess.run(["nm", "-D", "--defined-only", str(lib)],
                         check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVW":
            names.add(parts[2])
    return names


def test_headers_declare_some_api():
    declared = declared_symbols()
    assert "keel_strerror" in declared
    assert all(n.startswith("keel_") for n in declared), sorted(
        n for n in declared if not n.startswith("keel_"))


def test_exported_symbols_match_public_headers():
    declared, exported = declared_symbols(), exported_symbols()
    assert exported - declared == set(), "exported but not declared KEEL_API"
    assert declared - exported == set(), "declared KEEL_API but not exported"
