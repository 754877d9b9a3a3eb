#!/usr/bin/env bash
# fetch-chdb.sh [CACHE_DIR]
#
# Fetches the chDB engine (libchdb.so, ClickHouse compiled as a shared
# library) from the pinned npm package, verifies the tarball against the
# pinned npm integrity hash and extracts it into a cache outside git.
# The last line printed is the path of libchdb.so.
#
# Idempotent: a library that was already extracted from the pinned tarball
# (recorded in libchdb.so.integrity next to it, with its size) is not
# fetched again. internal/chdb.EnsureLibrary does the same in Go and uses
# the same cache layout and stamp, so either can fill the cache for the other.
#
# Environment:
#   NETSTRATA_CACHE        cache root (default: $HOME/.cache/netstrata)
#   NETSTRATA_CHDB_TARBALL use this local copy of the npm tarball instead of
#                          running npm pack (it is verified all the same)
set -euo pipefail

PKG="@chdb/lib-linux-x64-gnu"
VERSION="26.5.3"
INTEGRITY="sha512-fPrLmRt5Moor9yGz4mazbrNje4t7X9KB2mTGkXFWRxRBs2iKy8yh6jx11xsa0Qr3iDFMU/yHqd+bVdYJXu3QaQ=="
TARBALL_NAME="chdb-lib-linux-x64-gnu-${VERSION}.tgz"

die() { echo "fetch-chdb: $*" >&2; exit 1; }

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*) die "the pinned package ${PKG} is for Linux x86_64 only; on $(uname -s)/$(uname -m) point NETSTRATA_CHDB_LIB at a libchdb built for it" ;;
esac

CACHE_DIR="${1:-${NETSTRATA_CACHE:-${HOME:?HOME is not set}/.cache/netstrata}/chdb/${VERSION}}"
LIB="${CACHE_DIR}/libchdb.so"
STAMP="${LIB}.integrity"

# present_and_verified: the stamp names the pinned integrity and the size
# the library had when it was extracted. Re-hashing 560 MB on every run
# would cost seconds; the tarball hash was checked when the stamp was written.
present_and_verified() {
	[[ -f "$LIB" && -f "$STAMP" ]] || return 1
	local want_integrity want_size size
	read -r want_integrity want_size <"$STAMP" || return 1
	[[ "$want_integrity" == "$INTEGRITY" ]] || return 1
	size="$(stat -c %s "$LIB")"
	[[ "$size" == "$want_size" ]]
}

if present_and_verified; then
	echo "fetch-chdb: ${LIB} already present (${INTEGRITY:0:20}…)" >&2
	echo "$LIB"
	exit 0
fi

mkdir -p "$CACHE_DIR"
# Same lock as internal/chdb.EnsureLibrary, so that the two never fill the
# cache at once; whoever waited finds the library there.
if command -v flock >/dev/null; then
	exec 9>"${CACHE_DIR}/.lock"
	flock 9
	if present_and_verified; then
		echo "$LIB"
		exit 0
	fi
fi
WORK="$(mktemp -d "${CACHE_DIR}/.fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if [[ -n "${NETSTRATA_CHDB_TARBALL:-}" ]]; then
	[[ -f "$NETSTRATA_CHDB_TARBALL" ]] || die "NETSTRATA_CHDB_TARBALL=${NETSTRATA_CHDB_TARBALL} does not exist"
	TARBALL="$NETSTRATA_CHDB_TARBALL"
	echo "fetch-chdb: using local tarball ${TARBALL}" >&2
else
	command -v npm >/dev/null || die "npm is required to fetch ${PKG}@${VERSION} (apt-get install npm)"
	echo "fetch-chdb: npm pack ${PKG}@${VERSION} (~166 MB)…" >&2
	(cd "$WORK" && npm pack --silent "${PKG}@${VERSION}" >/dev/null) ||
		die "npm pack ${PKG}@${VERSION} failed"
	TARBALL="${WORK}/${TARBALL_NAME}"
	[[ -f "$TARBALL" ]] || die "npm pack did not produce ${TARBALL_NAME}"
fi

# npm's integrity string is "sha512-" + base64 of the raw digest.
sha512_b64() {
	if command -v openssl >/dev/null; then
		openssl dgst -sha512 -binary "$1" | base64 -w0
	elif command -v node >/dev/null; then
		node -e 'const h=require("crypto").createHash("sha512");require("fs").createReadStream(process.argv[1]).on("data",d=>h.update(d)).on("end",()=>process.stdout.write(h.digest("base64")))' "$1"
	else
		sha512sum "$1" | cut -d' ' -f1 | xxd -r -p | base64 -w0
	fi
}
GOT="sha512-$(sha512_b64 "$TARBALL")"
if [[ "$GOT" != "$INTEGRITY" ]]; then
	die "INTEGRITY MISMATCH for ${TARBALL}
  want ${INTEGRITY}
  got  ${GOT}
refusing to use it"
fi
echo "fetch-chdb: integrity verified" >&2

tar -xzf "$TARBALL" -C "$WORK" package/libchdb.so ||
	die "cannot extract libchdb.so from ${TARBALL}"
chmod 0755 "${WORK}/package/libchdb.so"
SIZE="$(stat -c %s "${WORK}/package/libchdb.so")"
# Rename into place so a concurrent reader never sees a half-written library;
# the stamp goes last so an interrupted run is redone.
mv -f "${WORK}/package/libchdb.so" "$LIB"
printf '%s %s\n' "$INTEGRITY" "$SIZE" >"${STAMP}.tmp"
mv -f "${STAMP}.tmp" "$STAMP"

echo "fetch-chdb: extracted ${PKG}@${VERSION}" >&2
echo "$LIB"
