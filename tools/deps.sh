#!/bin/sh
# Install the Debian packages keel needs, only those that are missing.
# Usage: tools/deps.sh PACKAGE...   (the Makefile passes its DEBS list)
# Says what it installs; uses sudo when not root; quiet when nothing is missing.
set -eu

missing=""
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: not root and no sudo; install as root:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list makes apt-get miss packages: refresh first.
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
echo "deps: installed:$missing" >&2
