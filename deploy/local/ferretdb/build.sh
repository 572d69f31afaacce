#!/usr/bin/env bash
# Build FerretDB v1.24.2 (SQLite + PostgreSQL backends) from the Go module proxy.
#
#   deploy/local/ferretdb/build.sh OUTPUT_BINARY
#
# Called by `peerloop_cli.infra.ferretdb.ensure_binary()`, which points GOCACHE
# and GOMODCACHE into the peerloop cache; it works standalone as well (then the
# default Go caches are used).
#
# Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`?
# It compiles, but the binary panics at start-up: build/version/version.txt is
# generated from git (`bin/task gen-version`) and is not part of the module
# zip, and FerretDB refuses to run without it when it is the main module.
# So we copy the module source to a scratch directory, write version.txt and
# build there, with the module's own go.sum pinning every dependency.
#
# Build tags: none needed. SQLite (pure Go, modernc.org/sqlite) and PostgreSQL
# are compiled in unless `ferretdb_no_sqlite` / `ferretdb_no_postgresql` are set.
set -euo pipefail

readonly MODULE=github.com/FerretDB/FerretDB
readonly VERSION=v1.24.2
# `Sum` printed by `go mod download -json github.com/FerretDB/FerretDB@v1.24.2`
# (the same h1: hash go.sum and sum.golang.org use).
readonly MODULE_SUM="h1:trrUU0LbmusMbyubhPS1IELncvrIwKrsRT2LW1UUWCw="

out=${1:?usage: build.sh OUTPUT_BINARY}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: 'go' is not on PATH; install Go >= 1.24 (https://go.dev/dl/)" >&2
    exit 127
fi

# Pure-Go build: no C toolchain needed, static binary.
export CGO_ENABLED=0
# -mod=readonly: use the module's go.sum as is; -modcacherw: keep the module
# cache deletable with plain `rm -rf`; -buildvcs=false: the scratch copy is no
# git checkout (FerretDB would otherwise compare vcs.revision to commit.txt).
export GOFLAGS="-mod=readonly -modcacherw -buildvcs=false"
# FerretDB 1.24 declares `go 1.24`; a newer local Go builds it fine. An older
# one may fetch the go1.24 toolchain from the proxy unless GOTOOLCHAIN=local.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

if ! info=$(go mod download -json "$MODULE@$VERSION"); then
    # On failure the JSON on stdout carries the "Error" field.
    echo "build.sh: go mod download $MODULE@$VERSION failed:" >&2
    printf '%s\n' "$info" >&2
    exit 1
fi
dir=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
sum=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "build.sh: go mod download gave no module directory:" >&2
    printf '%s\n' "$info" >&2
    exit 1
fi
if [ "$sum" != "$MODULE_SUM" ]; then
    echo "build.sh: $MODULE@$VERSION has sum $sum, expected $MODULE_SUM" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/peerloop-ferretdb-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"

printf '%s\n' "$VERSION" > build/version/version.txt
printf 'peerloop\n' > build/version/package.txt

mkdir -p "$(dirname "$out")"
go build -trimpath -ldflags="-s -w" -o "$work/ferretdb" ./cmd/ferretdb

# Smoke test before publishing: it runs, is the right version, has SQLite.
"$work/ferretdb" --version | grep -q "version: $VERSION" || {
    echo "build.sh: built binary does not report $VERSION:" >&2
    "$work/ferretdb" --version >&2 || true
    exit 1
}
"$work/ferretdb" --help | grep -q -- "--sqlite-url" || {
    echo "build.sh: built binary has no SQLite backend" >&2
    exit 1
}

mv -f "$work/ferretdb" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
echo "built $out ($("$out" --version | head -n 1))"
