#!/usr/bin/env bash
# The cost of the framework: examples/hello (a bare handler on the server)
# against examples/hello_app (router + app + JSON writer), same answers.
#
#   bench/http/framework.sh     (from the repository root, after make release)
#
# Each binary serves with one worker pinned to CPU 0; wrk (CPU 1, -t1 -c64)
# loads /plaintext and /json for BENCH_DURATION; runs alternate between the
# two binaries BENCH_RUNS times.  Reported: median requests/s and median
# requests per CPU-second of the worker (utime+stime from /proc), the
# figure a shared, noisy machine moves least.  Target (issue 4): the
# framework within 10% of the bare server on /json.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=${BENCH_DURATION:-5s}
runs=${BENCH_RUNS:-3}
bare=$root/build/release/examples/hello/hello
app=$root/build/release/examples/hello_app/hello_app
for b in "$bare" "$app"; do
	[ -x "$b" ] || { echo "framework.sh: $b missing: make release" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "framework.sh: wrk missing" >&2; exit 1; }
tmp=$(mktemp -d /tmp/keel-bench-fw.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# The command name may hold spaces ("hello: worker 1"): skip past it.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# one_run BIN PATH -> "req/s req/cpu-s"
one_run() {
	rm -f "$tmp/port"
	taskset -c 0 "$1" --workers 1 --port 0 --ready-file "$tmp/port" \
		--log-level warn &
	pid=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	local port worker t0 t1 rps
	port=$(cat "$tmp/port")
	worker=$(pgrep -P "$pid" | head -1)
	t0=$(cpu_ticks "$worker")
	rps=$(taskset -c 1 wrk -t1 -c64 -d"$duration" "http://127.0.0.1:$port$2" |
		awk '/Requests\/sec/{print $2}')
	t1=$(cpu_ticks "$worker")
	kill "$pid"; wait "$pid" 2>/dev/null; pid=
	local secs=${duration%s}
	awk -v r="$rps" -v d="$secs" -v c=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f %.0f\n", r, (c > 0 ? r * d / (c / hz) : 0) }'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-10s %-10s %12s %14s\n' path server "req/s" "req/cpu-s"
for path in /plaintext /json; do
	: >"$tmp/bare" && : >"$tmp/app"
	for _ in $(seq "$runs"); do
		one_run "$bare" "$path" >>"$tmp/bare"
		one_run "$app" "$path" >>"$tmp/app"
	done
	for who in bare app; do
		r=$(cut -d' ' -f1 "$tmp/$who" | median)
		c=$(cut -d' ' -f2 "$tmp/$who" | median)
		printf '%-10s %-10s %12s %14s\n' "$path" "$who" "$r" "$c"
		eval "${who}_cpu=$c"
	done
	awk -v a="$app_cpu" -v b="$bare_cpu" -v p="$path" \
		'BEGIN { printf "%-10s app/bare per CPU-second: %.2f\n", p, a / b }'
done
