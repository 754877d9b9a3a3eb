#!/usr/bin/env bash
# fetch-ipdb.sh [CACHE_DIR]
#
# Fetches the IP range databases the correlator enriches flows with (AS
# number and name, country) from their pinned npm packages, verifies each
# tarball against its pinned npm integrity hash and extracts the CSV files
# into a cache outside git. internal/ipdb.EnsureDatabases does the same in
# Go with the same layout and stamp, so either can fill the cache for the
# other. Keep the pins in step with internal/ipdb/fetch.go.
#
# Environment:
#   NETSTRATA_CACHE  cache root (default: $HOME/.cache/netstrata)
set -euo pipefail

CACHE_DIR="${1:-${NETSTRATA_CACHE:-${HOME:?HOME is not set}/.cache/netstrata}/ipdb}"

die() { echo "fetch-ipdb: $*" >&2; exit 1; }

sha512_b64() { openssl dgst -sha512 -binary "$1" | base64 -w0; }

# fetch NAME VERSION INTEGRITY FILE...
fetch() {
	local name="$1" version="$2" integrity="$3"
	shift 3
	local dir="${CACHE_DIR}/$(echo "${name#@}" | tr / -)-${version}"
	local stamp="${dir}/.integrity"
	if [[ -f "$stamp" ]]; then
		local want=("$integrity") f
		for f in "$@"; do want+=("$(stat -c %s "${dir}/${f}" 2>/dev/null || echo missing)"); done
		if [[ "$(cat "$stamp")" == "${want[*]}" ]]; then
			echo "fetch-ipdb: ${name}@${version} already present" >&2
			return
		fi
	fi
	command -v npm >/dev/null || die "npm is required to fetch ${name}@${version} (apt-get install npm)"
	mkdir -p "$dir"
	local work
	work="$(mktemp -d "${dir}/.fetch.XXXXXX")"
	trap 'rm -rf "$work"' RETURN
	echo "fetch-ipdb: npm pack ${name}@${version}…" >&2
	local tgz
	tgz="$(cd "$work" && npm pack --silent "${name}@${version}" | tail -n1)" || die "npm pack ${name}@${version} failed"
	local got="sha512-$(sha512_b64 "${work}/${tgz}")"
	[[ "$got" == "$integrity" ]] || die "INTEGRITY MISMATCH for ${name}@${version}: want ${integrity}, got ${got}; refusing to use it"
	local sizes=("$integrity") f
	for f in "$@"; do
		tar -xzf "${work}/${tgz}" -C "$work" "package/${f}" || die "cannot extract ${f} from ${tgz}"
		sizes+=("$(stat -c %s "${work}/package/${f}")")
		mv -f "${work}/package/${f}" "${dir}/${f}"
	done
	# The stamp goes last, so an interrupted run is redone.
	echo "${sizes[*]}" >"${stamp}.tmp"
	mv -f "${stamp}.tmp" "$stamp"
	echo "fetch-ipdb: ${name}@${version} verified and extracted into ${dir}" >&2
}

fetch @ip-location-db/asn 2.3.2026061719 \
	"sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==" \
	asn-ipv4.csv asn-ipv6.csv
fetch @ip-location-db/asn-country 2.3.2026061719 \
	"sha512-KN/mUGqf/nwkI0RDvv4knOc5xGXxbooU1MlTXThEJcJVyWxHoCx6oRed8p7NguGKZRpQPmZWdWw/zslHZsUC6Q==" \
	asn-country-ipv4.csv asn-country-ipv6.csv
echo "$CACHE_DIR"
