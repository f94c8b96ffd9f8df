"""The interview programs (examples/interview/*), run as built binaries.

Each answer is checked against a brute-force or closed-form answer computed
here in Python, including the edge cases each program's header defines, and
bad input must give a non-zero exit with a message on stderr and nothing on
stdout.
"""
import itertools
import random

import pytest

PAIRS = "examples/interview/pairs"
COMB = "examples/interview/combinations"
SUM = "examples/interview/sum"
PAL = "examples/interview/palindrome"

I64_MIN, I64_MAX = -2**63, 2**63 - 1


def lines(r):
    return r.stdout.splitlines()


def expect_bad(r, code=2):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip(), "no message on stderr"
    assert r.stdout == ""


# ------------------------------------------------------------------ pairs

def brute_pairs(values, d):
    """Distinct value pairs (a, b), b - a = |d|, ascending by a."""
    d, vals = abs(d), set(values)
    if d == 0:
        return sorted((v, v) for v in vals if values.count(v) > 1)
    return sorted((a, a + d) for a in vals if a + d in vals)


def parse_pairs(r):
    assert r.returncode == 0, r.stderr
    return [tuple(map(int, ln.split())) for ln in lines(r)]


@pytest.mark.parametrize("method", ["sort", "hash", "both"])
def test_pairs_basic(run, method):
    r = run(PAIRS, "-m", method, 2, 1, 5, 3, 4, 2)
    assert sorted(parse_pairs(r)) == [(1, 3), (2, 4), (3, 5)]


def test_pairs_sort_output_is_ascending(run):
    r = run(PAIRS, "-m", "sort", 3, 9, 6, 3, 0, 12)
    assert parse_pairs(r) == [(0, 3), (3, 6), (6, 9), (9, 12)]


def test_pairs_hash_output_follows_first_occurrence(run):
    r = run(PAIRS, "-m", "hash", 1, 7, 3, 8, 4, 7)
    assert parse_pairs(r) == [(7, 8), (3, 4)]


def test_pairs_default_method_is_hash(run):
    a = run(PAIRS, 1, 7, 3, 8, 4)
    b = run(PAIRS, "-m", "hash", 1, 7, 3, 8, 4)
    assert a.stdout == b.stdout and a.returncode == 0


@pytest.mark.parametrize("method", ["sort", "hash"])
def test_pairs_duplicates_give_each_value_pair_once(run, method):
    r = run(PAIRS, "-m", method, 1, 1, 1, 2, 2, 2, 3)
    assert sorted(parse_pairs(r)) == [(1, 2), (2, 3)]


@pytest.mark.parametrize("method", ["sort", "hash"])
def test_pairs_zero_difference_needs_a_repeat(run, method):
    r = run(PAIRS, "-m", method, 0, 5, 1, 5, 2, 3, 3, 3, 4)
    assert sorted(parse_pairs(r)) == [(3, 3), (5, 5)]
    assert parse_pairs(run(PAIRS, "-m", method, 0, 1, 2, 3)) == []


@pytest.mark.parametrize("method", ["sort", "hash"])
def test_pairs_negative_difference_is_the_same_as_positive(run, method):
    pos = parse_pairs(run(PAIRS, "-m", method, 2, 1, 3, 5, 8, 10))
    neg = parse_pairs(run(PAIRS, "-m", method, "--", -2, 1, 3, 5, 8, 10))
    assert pos == neg == [(1, 3), (3, 5), (8, 10)]


@pytest.mark.parametrize("method", ["sort", "hash"])
def test_pairs_full_int64_range_without_overflow(run, method):
    r = run(PAIRS, "-m", method, I64_MIN, I64_MIN, 0, -1, I64_MAX, 5)
    assert sorted(parse_pairs(r)) == [(I64_MIN, 0), (-1, I64_MAX)]
    r = run(PAIRS, "-m", method, 1, I64_MAX, I64_MIN, I64_MAX - 1)
    assert parse_pairs(r) == [(I64_MAX - 1, I64_MAX)]


def test_pairs_reads_stdin_when_no_numbers_given(run):
    r = run(PAIRS, "-m", "both", 10, stdin=" 0 10\n20\t5\r\n15 ")
    assert parse_pairs(r) == [(0, 10), (5, 15), (10, 20)]
    r = run(PAIRS, 1, stdin="")
    assert parse_pairs(r) == []


def test_pairs_single_and_no_pairs(run):
    assert parse_pairs(run(PAIRS, 4, 7)) == []
    assert parse_pairs(run(PAIRS, "-m", "sort", 4, 7)) == []


def test_pairs_methods_agree_with_brute_force(run):
    rng = random.Random(1234)
    for _ in range(25):
        vals = [rng.randint(-30, 30) for _ in range(rng.randint(0, 60))]
        d = rng.randint(-6, 6)
        args = ["-m", "both", "--", d, *vals]
        if not vals:
            r = run(PAIRS, *args, stdin="")
        else:
            r = run(PAIRS, *args)
        assert parse_pairs(r) == brute_pairs(vals, d), (vals, d)


def test_pairs_many_values(run):
    vals = list(range(0, 200000, 3))
    random.Random(7).shuffle(vals)
    stdin = " ".join(map(str, vals))
    for method in ("sort", "hash", "both"):
        got = sorted(parse_pairs(run(PAIRS, "-m", method, 6, stdin=stdin)))
        assert len(got) == len(vals) - 2
        assert got[0] == (0, 6) and got[-1] == (199992, 199998)


@pytest.mark.parametrize("args,stdin", [
    (["x", 1, 2], None),            # D not a number
    ([1, 2, "3x"], None),           # trailing garbage
    ([1, "+2", 3], None),           # no plus sign
    ([1, " 2"], None),              # no leading space
    ([1, ""], None),                # empty token
    ([1, "0x10"], None),            # decimal only
    ([1, "9223372036854775808"], None),   # one past INT64_MAX
    (["-m", "fast", 1, 2], None),   # unknown method
    ([], None),                     # no D
    ([1], "1 2 three"),             # bad token on stdin
    ([1], "1" * 40),                # absurdly long token on stdin
])
def test_pairs_bad_input(run, args, stdin):
    expect_bad(run(PAIRS, *args, stdin=stdin))


# ------------------------------------------------------------ combinations

def comb_lines(items, k=None):
    if k is None:
        n = len(items)
        # lexicographic order of index tuples, the empty one first
        idx = sorted((c for r in range(n + 1)
                      for c in itertools.combinations(range(n), r)))
    else:
        idx = itertools.combinations(range(len(items)), k)
    return [" ".join(items[i] for i in c) for c in idx]


def test_combinations_all_subsets_of_three(run):
    r = run(COMB, "a", "b", "c")
    assert r.returncode == 0
    assert r.stdout == "\na\na b\na b c\na c\nb\nb c\nc\n"


def test_combinations_all_subsets_count_and_order(run):
    items = [f"i{n}" for n in range(12)]
    got = lines(run(COMB, *items))
    assert len(got) == 2 ** 12
    assert got == comb_lines(items)


@pytest.mark.parametrize("n,k", [(4, 2), (6, 3), (7, 1), (7, 7), (9, 4)])
def test_combinations_k_matches_itertools(run, n, k):
    items = [chr(ord("a") + i) for i in range(n)]
    got = lines(run(COMB, "-k", k, *items))
    assert got == comb_lines(items, k)


def test_combinations_edge_sizes(run):
    assert run(COMB, "-k", 0, "a", "b").stdout == "\n"    # one: the empty one
    r = run(COMB, "-k", 3, "a", "b")
    assert r.returncode == 0 and r.stdout == ""          # k > n: none
    assert run(COMB, stdin="").stdout == "\n"            # n = 0: just {}
    assert run(COMB, "-k", 0, stdin="").stdout == "\n"
    assert run(COMB, "only").stdout == "\nonly\n"


def test_combinations_repeated_items_are_positions(run):
    assert lines(run(COMB, "x", "x")) == ["", "x", "x x", "x"]


def test_combinations_reads_stdin(run):
    r = run(COMB, "-k", 2, stdin="p q\n r\t\n")
    assert lines(r) == ["p q", "p r", "q r"]


def test_combinations_dash_dash_allows_dash_items(run):
    assert lines(run(COMB, "-k", 1, "--", "-k", "x")) == ["-k", "x"]


@pytest.mark.parametrize("args", [
    ["-k", "-1", "a"], ["-k", "x", "a"], ["-k", "2x", "a"], ["-k", "", "a"],
    ["-k"], ["-k", "99999999999999999999999", "a"],
    [f"i{n}" for n in range(31)],                        # 2^31 lines
    ["-k", "20", *[f"i{n}" for n in range(40)]],         # C(40,20) lines
])
def test_combinations_bad_input(run, args):
    expect_bad(run(COMB, *args))


def test_combinations_limit_is_on_lines_not_items(run):
    # C(100, 2) = 4950 lines is fine even though 2^100 would not be
    r = run(COMB, "-k", 2, *[f"i{n}" for n in range(100)])
    assert r.returncode == 0 and len(lines(r)) == 4950


# --------------------------------------------------------------------- sum

def sum_fields(r):
    assert r.returncode == 0, r.stderr
    return dict(ln.split(": ", 1) for ln in lines(r))


@pytest.mark.parametrize("n", [0, 1, 2, 10, 100, 12345, 1000000])
def test_sum_formula_and_loop_agree(run, n):
    f = sum_fields(run(SUM, n))
    assert f["n"] == str(n)
    assert f["formula"] == f["loop"] == str(n * (n + 1) // 2)
    assert f["agree"] == "yes"


def test_sum_int32_boundary(run):
    assert sum_fields(run(SUM, 65535))["int32"] == "fits"
    f = sum_fields(run(SUM, 65536))
    assert f["int32"] == "overflows"
    assert int(f["formula"]) == 2147516416 > 2**31 - 1


def test_sum_ten_to_the_eight_by_loop(run):
    f = sum_fields(run(SUM, 10**8))
    assert f["formula"] == f["loop"] == "5000000050000000"
    assert f["agree"] == "yes"


def test_sum_beyond_loop_limit_uses_formula_only(run):
    n = 10**8 + 1
    f = sum_fields(run(SUM, n))
    assert f["formula"] == str(n * (n + 1) // 2)
    assert f["loop"].startswith("skipped")


def test_sum_largest_n_that_fits_uint64(run):
    n = 6074000999
    assert n * (n + 1) // 2 < 2**64 <= (n + 1) * (n + 2) // 2
    assert sum_fields(run(SUM, n))["formula"] == str(n * (n + 1) // 2)


@pytest.mark.parametrize("n", [6074001000, 2**63, 2**64 - 1])
def test_sum_refuses_overflowing_n(run, n):
    r = run(SUM, n)
    expect_bad(r, code=1)
    assert "overflows uint64" in r.stderr


@pytest.mark.parametrize("args", [
    ["-5"], ["abc"], [""], ["1e3"], [" 5"], ["+5"], ["5 "], ["0x10"],
    ["18446744073709551616"], [], ["1", "2"],
])
def test_sum_bad_input(run, args):
    expect_bad(run(SUM, *args))


# -------------------------------------------------------------- palindrome

def test_palindrome_answers_and_exit_status(run):
    r = run(PAL, "racecar", "abba", "a", "")
    assert r.returncode == 0
    assert lines(r) == ["yes: racecar", "yes: abba", "yes: a", "yes: "]
    r = run(PAL, "abba", "abca")
    assert r.returncode == 1
    assert lines(r) == ["yes: abba", "no: abca"]


def test_palindrome_is_exact_without_i(run):
    assert lines(run(PAL, "Abba", "a ba", "a,a")) == [
        "no: Abba", "no: a ba", "yes: a,a"]


def test_palindrome_i_ignores_case_and_punctuation(run):
    r = run(PAL, "-i", "A man, a plan, a canal: Panama", "No 'x' in Nixon",
            "Abba", ",.!", "ab1")
    assert lines(r) == ["yes: A man, a plan, a canal: Panama",
                        "yes: No 'x' in Nixon", "yes: Abba", "yes: ,.!",
                        "no: ab1"]
    assert r.returncode == 1


def test_palindrome_reads_stdin_lines(run):
    r = run(PAL, "-i", stdin="Level\r\nnope\n\nStats")
    assert lines(r) == ["yes: Level", "no: nope", "yes: ", "yes: Stats"]
    assert r.returncode == 1


def test_palindrome_recursive_and_iterative_agree(run):
    rng = random.Random(99)
    words = []
    for _ in range(60):
        half = "".join(rng.choice("aAb, ") for _ in range(rng.randint(0, 6)))
        mid = rng.choice(["", "x", "Y"])
        tail = half[::-1] if rng.random() < 0.6 else half
        words.append(half + mid + tail)
    for flags in ([], ["-i"]):
        rec = run(PAL, *flags, "--", *words)
        it = run(PAL, *flags, "--iter", "--", *words)
        assert rec.stdout == it.stdout
        assert rec.returncode == it.returncode
        for w, ln in zip(words, lines(rec)):
            s = w if not flags else "".join(
                c.lower() for c in w if c.isascii() and c.isalnum())
            assert ln == ("yes: " if s == s[::-1] else "no: ") + w


def test_palindrome_recursion_bound(run):
    at_bound = "ab" * 16384 + "ba" * 16384          # 65536 bytes
    r = run(PAL, stdin=at_bound + "\n")
    assert r.returncode == 0 and r.stdout.startswith("yes: ")
    over = "a" * 65537
    expect_bad(run(PAL, stdin=over + "\n"))
    r = run(PAL, "--iter", stdin="a" * 1_000_000 + "\n")
    assert r.returncode == 0 and r.stdout.startswith("yes: aaa")


def test_palindrome_unknown_option(run):
    expect_bad(run(PAL, "-x", "abba"))
