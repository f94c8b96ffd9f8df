#!/usr/bin/env bash
# Latency of a cheap GET (/ping) while 20 logins verify argon2id hashes on
# the worker's thread pool, against the same GET on an idle server; plus a
# control run with the hashing on the event loop itself.  Issue 6 asks for
# p99 under load <= 2 x idle p99.
#
#   bench/auth/run.sh [probe.py options]     (after `make release`)
#
# Options (see bench/auth/probe.py --help): --seconds 1 --runs 10 --rate 200
# --logins 20 --pool-threads N (default: CPUs - 1, so hashing leaves a core
# to the event loop) --binary PATH.  BENCH_NICE (e.g. -10, root
# only) runs the server and the clients at that niceness, so other work on
# a shared machine disturbs the measurement less.  Exit status: 0 when the
# requirement holds, 1 when not, 2 when something could not run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || {
	echo "bench/auth: $python not found (apt-get install python3)" >&2
	exit 2
}
prio=${BENCH_NICE:+nice -n $BENCH_NICE}
exec $prio "$python" "$here/probe.py" "$@"
