#!/usr/bin/env bash
# keel's Conduit against FastAPI and Django REST framework peers doing the
# same four operations on copies of the same seeded SQLite database:
#   GET  /api/articles            (20 per page, authors, tags, counts)
#   GET  /api/articles/{slug}
#   GET  /api/tags
#   POST /api/articles            (with a token; each request a new title)
# Servers run one after another (never together), each with WORKERS
# processes; wrk uses the commands of bench/conduit/run.sh.  keel runs
# twice: as shipped (anonymous reads cached, docs/caching.md) and with
# CONDUIT_CACHE_TTL=0 (every read runs its SQL).  Prints req/s, p50 and
# p99 per server and operation, then each keel / fastest peer.
#
#   bench/peers/run.sh            (after `make release`)
#
# Environment: SECONDS_EACH (default 5), WORKERS (default 2), CONNS
# (default 64), BINARY (default build/release/apps/conduit/conduit),
# PYTHON (default /usr/bin/python3: the one apt installs the peers into).
# Bounded: about 4 x (4 x SECONDS_EACH + 3 s) in all; every step is under
# `timeout`, every server is stopped by its PID.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BINARY:-$root/build/release/apps/conduit/conduit}
py=${PYTHON:-/usr/bin/python3}
secs=${SECONDS_EACH:-5}
workers=${WORKERS:-2}
conns=${CONNS:-64}
for tool in wrk curl timeout; do
	command -v $tool >/dev/null || { echo "bench/peers: $tool missing" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "bench/peers: $bin missing (make release)" >&2; exit 2; }
"$py" -c 'import fastapi, uvicorn, django, rest_framework, gunicorn, jwt' ||
	{ echo "bench/peers: python packages missing (see README.md)" >&2; exit 2; }

tmp=$(mktemp -d)
pid=
stop() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	pid=
}
cleanup() {
	stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export CONDUIT_SECRET=bench-secret-bench-secret-bench-secret-0123
cd "$tmp" || exit 2

DATABASE_URL="sqlite:///$tmp/seed.db" "$bin" migrate >/dev/null || exit 2
DATABASE_URL="sqlite:///$tmp/seed.db" timeout 60 "$bin" seed \
	--articles 10000 --users 1000 >/dev/null || exit 2

# Wait (at most 10 s) until $1/api/tags answers 200.
wait_up() {
	for _ in $(seq 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1/api/tags")" = 200 ] &&
			return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

start_keel() {
	rm -f "$tmp/port"
	DATABASE_URL="sqlite:///$tmp/$server.db" CONDUIT_CACHE_TTL=${1:-5} \
		"$bin" serve --port 0 \
		--workers "$workers" --ready-file "$tmp/port" --log-level warn \
		>"$tmp/$server.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	base="http://127.0.0.1:$(tr -d '\n' <"$tmp/port")"
}

# keel with its response cache off: every read runs the handler and SQL.
start_keel_nocache() {
	start_keel 0
}

start_fastapi() {
	DATABASE_PATH="$tmp/fastapi.db" "$py" -m uvicorn --app-dir "$here" \
		--host 127.0.0.1 --port 18081 --workers "$workers" \
		--log-level warning --no-access-log fastapi_app:app \
		>"$tmp/fastapi.log" 2>&1 &
	pid=$!
	base=http://127.0.0.1:18081
}

start_django() {
	DATABASE_PATH="$tmp/django.db" "$py" -m gunicorn \
		--chdir "$here/django_app" --bind 127.0.0.1:18082 \
		--workers "$workers" --log-level warning app:application \
		>"$tmp/django.log" 2>&1 &
	pid=$!
	base=http://127.0.0.1:18082
}

run() { # server, op, path, [wrk args...]
	local server=$1 op=$2 path=$3
	shift 3
	timeout $((secs + 15)) wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" \
		"$base$path" >"$tmp/out" 2>&1
	awk -v s="$server" -v o="$op" '
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = $2 }
		$1 == "99%" { p99 = $2 }
		/Non-2xx/ { bad = $NF }
		/Socket errors/ { err = $0 }
		END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", s, o, rps ? rps : 0,
		      p50 ? p50 : "-", p99 ? p99 : "-", bad ? bad : 0 }' \
		"$tmp/out" >>"$tmp/results"
}

token=
for server in keel keel_nocache fastapi django; do
	cp "$tmp/seed.db" "$tmp/$server.db"
	"start_$server"
	wait_up "$base" || { echo "bench/peers: $server did not start:" >&2;
		cat "$tmp/$server.log" >&2; exit 2; }
	if [ -z "$token" ]; then # keel signs it; the peers verify it
		token=$(curl -s -H 'Content-Type: application/json' -d \
			'{"user":{"email":"user1@example.com","password":"password123"}}' \
			"$base/api/users/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
		[ -n "$token" ] || { echo "bench/peers: login failed" >&2; exit 2; }
		export CONDUIT_TOKEN="$token" # read by post.lua
	fi
	run $server "GET /api/articles" "/api/articles"
	run $server "GET /api/articles/{slug}" "/api/articles/seeded-article-5000"
	run $server "GET /api/tags" "/api/tags"
	run $server "POST /api/articles" "/api/articles" -s "$root/bench/conduit/post.lua"
	stop
done

echo "conduit peers: $workers workers each, $conns connections, ${secs}s each"
awk -F'\t' '
	{ key = $2; rps[$1, key] = $3; if (!(key in seen)) { seen[key] = 1;
	  ops[++n] = key }
	  printf "%-12s %-26s %10s req/s  p50 %8s  p99 %8s%s\n", $1, $2, $3,
	         $4, $5, $6 ? "  non-2xx " $6 : "" }
	END {
		print ""
		printf "%-26s %-22s %s\n", "operation", "keel / fastest peer",
		       "keel_nocache / fastest peer"
		for (i = 1; i <= n; i++) {
			k = ops[i]; f = rps["fastapi", k]; d = rps["django", k]
			best = f > d ? f : d
			r = best > 0 ? sprintf("%.1fx", rps["keel", k] / best) : "-"
			rn = best > 0 ? sprintf("%.1fx", rps["keel_nocache", k] / best) : "-"
			printf "%-26s %-22s %s\n", k, r, rn
		}
	}' "$tmp/results"
