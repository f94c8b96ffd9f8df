#!/usr/bin/env bash
# Conduit under load: a database seeded with 10,000 articles by 1,000
# users, then wrk at 64 connections against
#   GET  /api/articles            (20 per page, authors, tags, counts)
#   GET  /api/articles/{slug}
#   GET  /api/tags
#   POST /api/articles            (with a token; each request a new title)
# printing requests/s and p50/p99 latency per endpoint.
#
#   bench/conduit/run.sh          (after `make release`)
#
# Environment: SECONDS_EACH (default 5) per endpoint, WORKERS (default 2),
# CONNS (default 64), BINARY (default build/release/apps/conduit/conduit).
# Bounded: at most about 4 x SECONDS_EACH + seeding (~2 s) in all.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BINARY:-$root/build/release/apps/conduit/conduit}
secs=${SECONDS_EACH:-5}
workers=${WORKERS:-2}
conns=${CONNS:-64}
for tool in wrk curl; do
	command -v $tool >/dev/null || { echo "bench/conduit: $tool missing" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "bench/conduit: $bin missing (make release)" >&2; exit 2; }

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export DATABASE_URL="sqlite:///$tmp/bench.db"
export CONDUIT_SECRET=bench-secret-bench-secret-bench-secret-0123
cd "$tmp" || exit 2

"$bin" migrate >/dev/null || exit 2
start=$(date +%s.%N)
"$bin" seed --articles 10000 --users 1000 || exit 2
echo "seed: $(echo "$(date +%s.%N) - $start" | bc) s"

"$bin" serve --port 0 --workers "$workers" --ready-file "$tmp/port" \
	--log-level warn >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(tr -d '\n' <"$tmp/port")
base="http://127.0.0.1:$port"
token=$(curl -s -H 'Content-Type: application/json' -d \
	'{"user":{"email":"user1@example.com","password":"password123"}}' \
	"$base/api/users/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "bench/conduit: login failed" >&2; exit 2; }

export CONDUIT_TOKEN="$token" # read by post.lua

run() { # name, path, [wrk args...]
	local name=$1 path=$2
	shift 2
	wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" "$base$path" >"$tmp/out" 2>&1
	awk -v n="$name" '
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = $2 }
		$1 == "99%" { p99 = $2 }
		/Non-2xx/ { bad = $NF }
		END { printf "%-28s %10s req/s  p50 %8s  p99 %8s%s\n", n, rps, p50, p99,
		      bad ? "  non-2xx " bad : "" }' "$tmp/out"
}

echo "conduit: $workers workers, $conns connections, ${secs}s each"
run "GET /api/articles" "/api/articles"
run "GET /api/articles/{slug}" "/api/articles/seeded-article-5000"
run "GET /api/tags" "/api/tags"
run "POST /api/articles" "/api/articles" -s "$root/bench/conduit/post.lua"
