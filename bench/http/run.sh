#!/usr/bin/env bash
# keel's examples/hello against nginx, both with one worker process pinned to
# the same CPU, loaded by wrk pinned to another one.
#
#   bench/http/run.sh          (from the repository root, after `make release`)
#
# Measures, for plaintext, plaintext with 16-deep pipelining and json:
# requests/s, latency p50/p99 (median of BENCH_RUNS runs, keel and nginx
# runs interleaved so drifting background load hits both alike) and
# requests per CPU-second of the server worker (utime+stime from
# /proc/<pid>/stat), which stays meaningful on a shared, noisy machine.
# Then memory: RSS of the idle worker, fresh and after the load, and the
# RSS added per idle keep-alive connection with BENCH_IDLE_CONNS open.
#
# Installs and builds nothing.  Needs wrk, nginx, taskset and python3
# (Debian: apt-get install wrk nginx-light util-linux python3; `make deps`
# installs them).  Knobs (environment): KEEL_HELLO (binary), BENCH_DURATION
# (10s), BENCH_RUNS (3), BENCH_CONNS (64), BENCH_IDLE_CONNS (10000),
# BENCH_SERVER_CPU (0), BENCH_CLIENT_CPU (1), BENCH_OUT (raw wrk outputs,
# default build/bench/http), BENCH_NICE (e.g. -10, root only: runs servers
# and wrk at that niceness so other work on a shared machine disturbs less).  Servers are stopped by PID on every exit path.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
hello=${KEEL_HELLO:-$root/build/release/examples/hello/hello}
duration=${BENCH_DURATION:-10s}
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNS:-64}
idle_conns=${BENCH_IDLE_CONNS:-10000}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
out=${BENCH_OUT:-$root/build/bench/http}
python=${PYTHON:-python3}
prio=${BENCH_NICE:+nice -n $BENCH_NICE}
PATH=$PATH:/usr/sbin:/sbin

die() {
	echo "bench/http: $*" >&2
	exit 1
}

# ------------------------------------------------------------ preflight
need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "$1 not found; install it with: apt-get install -y $2 (or make deps)"
}
need wrk wrk
need nginx nginx-light
need taskset util-linux
need "$python" python3
[ -x "$hello" ] || die "$hello missing; build it first with: make release"
if [ "$(nproc)" -lt 2 ]; then
	echo "bench/http: one CPU only: server and client share it" >&2
	client_cpu=$server_cpu
fi

tmp=$(mktemp -d /tmp/keel-bench-http.XXXXXX) || die "mktemp failed"
mkdir -p "$out" || die "cannot create $out"
keel_pid=
nginx_pid=

# Stop a server by PID: TERM, then KILL after 5 s.
# shellcheck disable=SC2317  # reached through the EXIT trap
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# shellcheck disable=SC2317
cleanup() {
	stop_pid "$keel_pid"
	stop_pid "$nginx_pid"
	keel_pid=
	nginx_pid=
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ servers
free_port() {
	"$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One HTTP/1.0 GET over bash's /dev/tcp; prints the raw response.
http_get() {
	timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 &&
		printf 'GET $2 HTTP/1.0\r\nHost: bench\r\n\r\n' >&3 && cat <&3" \
		2>/dev/null
}

# Wait until the server on port $1 answers /plaintext (at most 5 s).
wait_ready() {
	for _ in $(seq 50); do
		http_get "$1" /plaintext | grep -q '^HTTP/1.1 200' && return 0
		sleep 0.1
	done
	return 1
}

# Both servers must give the same answers before any number means anything.
check_answers() {
	local name=$1 port=$2 r
	r=$(http_get "$port" /plaintext)
	case $r in *"Hello, World!") ;; *) die "$name /plaintext: bad answer: $r" ;; esac
	r=$(http_get "$port" /json)
	case $r in *'{"message":"Hello, World!"}') ;; *) die "$name /json: bad answer: $r" ;; esac
	printf '%s' "$r" | grep -qi '^content-type: application/json' ||
		die "$name /json: not application/json"
}

# String settings go through the environment: flags would work as well,
# but the environment is what a deployment script uses.
start_keel() {
	KEEL_HOST=127.0.0.1 KEEL_PORT=0 KEEL_WORKERS=1 \
		KEEL_MAX_REQUESTS=1000000 KEEL_LOG_LEVEL=warn \
		KEEL_SHUTDOWN_TIMEOUT=2s KEEL_READY_FILE="$tmp/keel.port" \
		$prio taskset -c "$server_cpu" "$hello" >"$tmp/keel.log" 2>&1 &
	keel_pid=$!
	for _ in $(seq 50); do
		[ -s "$tmp/keel.port" ] && break
		sleep 0.1
	done
	keel_port=$(cat "$tmp/keel.port" 2>/dev/null) ||
		die "keel did not start: $(cat "$tmp/keel.log")"
	wait_ready "$keel_port" || die "keel does not answer on $keel_port"
	keel_worker=$(pgrep -P "$keel_pid" | head -n 1)
	[ -n "$keel_worker" ] || die "no keel worker under pid $keel_pid"
}

start_nginx() {
	nginx_port=$(free_port)
	sed -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$nginx_port|g" \
		"$here/nginx.conf" >"$tmp/nginx.conf"
	$prio taskset -c "$server_cpu" nginx -p "$tmp/" -e "$tmp/error.log" \
		-c "$tmp/nginx.conf" -g 'daemon off;' >"$tmp/nginx.out" 2>&1 &
	nginx_pid=$!
	wait_ready "$nginx_port" ||
		die "nginx did not start: $(cat "$tmp/nginx.out" "$tmp/error.log" 2>/dev/null)"
	nginx_worker=$(pgrep -P "$nginx_pid" | head -n 1)
	[ -n "$nginx_worker" ] || die "no nginx worker under pid $nginx_pid"
}

# ------------------------------------------------------------ measuring
rss_kib() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

cpu_ticks() {
	# utime + stime (fields 14, 15); the name in field 2 may hold spaces
	# ("hello: worker 1"), so count from the ")" that ends it.
	sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# wrk's "12.27ms" -> microseconds.
to_us() {
	awk -v t="$1" 'BEGIN {
		v = t + 0; u = t; sub(/^[0-9.]+/, "", u)
		m = -1
		if (u == "us") m = 1
		if (u == "ms") m = 1e3
		if (u == "s") m = 1e6
		if (u == "m") m = 6e7
		if (m < 0) print "nan"; else printf "%.0f\n", v * m
	}'
}

# One wrk run: bench_one NAME PORT TEST RUN; appends a result line
# "test server run rps p50_us p99_us req_per_cpu_s errors non2xx".
bench_one() {
	local name=$1 port=$2 test=$3 run=$4 worker=$5 path=/plaintext
	local script='' f="$out/$test.$name.$run.txt" t0 t1 secs
	[ "$test" = json ] && path=/json
	[ "$test" = pipeline ] && script="-s $here/pipeline.lua"
	secs=${duration%s}
	case $secs in '' | *[!0-9]*) secs=600 ;; esac # "1m" etc.: generous bound
	t0=$(cpu_ticks "$worker")
	# shellcheck disable=SC2086
	timeout $((secs + 30)) $prio taskset -c "$client_cpu" wrk -t1 -c"$conns" \
		-d"$duration" --timeout 5s --latency $script \
		"http://127.0.0.1:$port$path" >"$f" 2>&1
	t1=$(cpu_ticks "$worker")
	local rps p50 p99 reqs errs non2xx cpu share
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
	p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$f")")
	p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$f")")
	# wrk 4.1 prints 99% as 0.00us when its latency correction pushed the
	# tail past the histogram's recorded maximum (seen with pipelining).
	[ "$p99" = 0 ] && p99=nan
	reqs=$(awk '/ requests in / {print $1}' "$f")
	errs=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$f")
	non2xx=$(awk '/Non-2xx or 3xx/ {print $NF}' "$f")
	cpu=$(awk -v r="${reqs:-0}" -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (d > 0) printf "%.0f", r / (d / hz); else print "nan" }')
	echo "$test $name $run ${rps:-0} ${p50:-nan} ${p99:-nan} $cpu ${errs:-0} ${non2xx:-0}" \
		>>"$tmp/results"
	share=$(awk -v r="${rps:-0}" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", 100 * r / c; else print "?" }')
	printf '  %-8s %-5s run %d: %10s req/s  p50 %7s us  p99 %7s us  %8s req/cpu-s (worker busy %s%%)%s\n' \
		"$test" "$name" "$run" "${rps:-?}" "${p50:-?}" "${p99:-?}" "$cpu" "$share" \
		"$( [ "${errs:-0}${non2xx:-0}" = 00 ] || echo "  errors ${errs:-0} non-2xx ${non2xx:-0}")"
}

# median TEST SERVER COLUMN (4 rps, 5 p50, 6 p99, 7 req/cpu-s), "n/a"
# when no run produced the number.
median() {
	awk -v t="$1" -v s="$2" -v c="$3" \
		'$1 == t && $2 == s && $c != "nan" {print $c}' \
		"$tmp/results" | sort -g |
		awk '{v[NR] = $1} END {
			if (NR == 0) { print "n/a"; exit }
			if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

total() {
	awk -v t="$1" -v c="$2" '$1 == t {s += $c} END {print s + 0}' "$tmp/results"
}

print_table() {
	local t k n
	printf '\n| test | keel req/s | nginx req/s | keel/nginx | keel p50 us | nginx p50 us | keel p99 us | nginx p99 us | keel req/CPU-s | nginx req/CPU-s | keel/nginx per CPU | errors+non-2xx |\n'
	printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
	for t in plaintext pipeline json; do
		k=$(median "$t" keel 4)
		n=$(median "$t" nginx 4)
		kc=$(median "$t" keel 7)
		nc=$(median "$t" nginx 7)
		awk -v t="$t" -v k="$k" -v n="$n" -v kc="$kc" -v nc="$nc" \
			-v k50="$(median "$t" keel 5)" -v n50="$(median "$t" nginx 5)" \
			-v k99="$(median "$t" keel 6)" -v n99="$(median "$t" nginx 6)" \
			-v e="$(($(total "$t" 8) + $(total "$t" 9)))" 'BEGIN {
			r = n > 0 ? k / n : 0
			rc = nc > 0 ? kc / nc : 0
			printf("| %s | %.0f | %.0f | %.2f | %s | %s | %s | %s | %.0f | %.0f | %.2f | %d |\n", t, k, n, r, k50, n50, k99, n99, kc, nc, rc, e) }'
	done
}

idle_memory() {
	local name=$1 port=$2 worker=$3
	printf '  %-5s idle %d conns: ' "$name" "$idle_conns"
	timeout 120 taskset -c "$client_cpu" "$python" "$here/idleconns.py" \
		"$worker" 127.0.0.1 "$port" /plaintext "$idle_conns" 1 ||
		echo "  (idleconns failed)"
}

# ------------------------------------------------------------ main
echo "bench/http: $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -srm), $(nproc) CPUs: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "bench/http: server CPU $server_cpu, wrk CPU $client_cpu, -t1 -c$conns -d$duration, $runs runs each, raw output in $out"
start_keel
start_nginx
check_answers keel "$keel_port"
check_answers nginx "$nginx_port"
echo "keel  $hello port $keel_port worker pid $keel_worker"
echo "nginx $(nginx -v 2>&1 | sed 's/.*: //') port $nginx_port worker pid $nginx_worker"

sleep 1
echo
echo "== memory"
echo "  idle worker RSS, fresh: keel $(rss_kib "$keel_worker") KiB, nginx $(rss_kib "$nginx_worker") KiB"
idle_memory keel "$keel_port" "$keel_worker"
idle_memory nginx "$nginx_port" "$nginx_worker"

echo
echo "== throughput"
: >"$tmp/results"
for test in plaintext pipeline json; do
	for run in $(seq "$runs"); do
		bench_one keel "$keel_port" "$test" "$run" "$keel_worker"
		bench_one nginx "$nginx_port" "$test" "$run" "$nginx_worker"
	done
done
print_table
cp "$tmp/results" "$out/results.txt"

sleep 1
echo
echo "  idle worker RSS after the load: keel $(rss_kib "$keel_worker") KiB, nginx $(rss_kib "$nginx_worker") KiB"
kill -0 "$keel_pid" 2>/dev/null || die "keel master died during the run"
kill -0 "$keel_worker" 2>/dev/null ||
	echo "  NOTE: the keel worker was replaced during the run (crash?)"
kill -0 "$nginx_worker" 2>/dev/null ||
	echo "  NOTE: the nginx worker was replaced during the run (crash?)"
[ -s "$tmp/keel.log" ] && { echo "  keel log:"; sed 's/^/    /' "$tmp/keel.log" | tail -n 20; }
exit 0
