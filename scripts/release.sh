#!/bin/sh
# scripts/release.sh VERSION: make release. Builds qvmeter for linux/amd64
# (the host's gcc) and windows/amd64 (scripts/build-windows.sh), stamps
# VERSION, the commit and the build date into both, and writes
#
#   dist/qvmeter-VERSION-linux-amd64.tar.gz
#   dist/qvmeter-VERSION-windows-amd64.zip
#   dist/SHA256SUMS
#
# Each archive holds one folder qvmeter-VERSION-OS-amd64/ with the binary,
# README.md, license.toml (the example licence file of the bundled estate)
# and LICENSES/: the licence text of Go, of every module compiled into that
# binary (go list -deps), of DuckDB, and for Windows of the MinGW-w64
# runtime linked in. SOURCE_DATE_EPOCH, when set, is the build date.
set -eu
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 VERSION   (e.g. make release VERSION=0.2.0)" >&2; exit 2; }
version=${1#v}
case $version in
*[!0-9A-Za-z.+-]*) echo "release.sh: version $version has characters a file name should not" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/toolchain.sh" mingw zip

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
[ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit=$commit-dirty
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
ldflags="-s -w -X main.Version=$version -X main.Commit=$commit -X main.BuildDate=$date"

build=$root/build/release
dist=$root/dist
rm -rf "$build"
mkdir -p "$build" "$dist"

# licenses GOOS DIR: copies the licence texts of what the GOOS binary
# bundles into DIR; fails when a module has none.
licenses() {
	mkdir -p "$2"
	cp "$(go env GOROOT)/LICENSE" "$2/go.LICENSE"
	GOOS=$1 GOARCH=amd64 CGO_ENABLED=1 go list -deps \
		-f '{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}} {{.Dir}}{{end}}{{end}}' ./cmd/qvmeter |
		sort -u | while read -r mod dir; do
			found=
			for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/NOTICE*; do
				[ -f "$f" ] || continue
				cp "$f" "$2/$(echo "${mod%@*}" | tr / _).$(basename "$f")"
				found=1
			done
			[ -n "$found" ] || { echo "release.sh: no licence file in $mod ($dir)" >&2; exit 1; }
		done
	duckdb=$(go list -m -f '{{.Dir}}' github.com/marcboeker/go-duckdb)
	cp "$duckdb/deps/LICENSE.txt" "$2/duckdb.LICENSE.txt"
	if [ "$1" = windows ]; then
		cp /usr/share/doc/mingw-w64-x86-64-dev/copyright "$2/mingw-w64-runtime.copyright"
		cp /usr/share/doc/gcc-mingw-w64-base/copyright "$2/gcc-runtime.copyright"
	fi
}

# stage OS BINARY: the folder an archive holds.
stage() {
	dir=$build/qvmeter-$version-$1-amd64
	mkdir -p "$dir"
	cp "$2" "$dir/"
	cp README.md "$dir/README.md"
	cp fixtures/estate/license.toml "$dir/license.toml"
	licenses "$1" "$dir/LICENSES"
}

echo "release.sh: building linux/amd64" >&2
CGO_ENABLED=1 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "$ldflags" -o "$build/linux/qvmeter" ./cmd/qvmeter
echo "release.sh: building windows/amd64" >&2
"$root/scripts/build-windows.sh" "$build/windows/qvmeter.exe" "$ldflags"

stage linux "$build/linux/qvmeter"
stage windows "$build/windows/qvmeter.exe"

linux=qvmeter-$version-linux-amd64
windows=qvmeter-$version-windows-amd64
rm -f "$dist/$linux.tar.gz" "$dist/$windows.zip" "$dist/SHA256SUMS"
(cd "$build" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$date" -czf "$dist/$linux.tar.gz" "$linux")
(cd "$build" && find "$windows" -exec touch -d "$date" {} + && find "$windows" | sort | zip -q -X -@ "$dist/$windows.zip")
(cd "$dist" && sha256sum "$linux.tar.gz" "$windows.zip" >SHA256SUMS)
ls -l "$dist/$linux.tar.gz" "$dist/$windows.zip" "$dist/SHA256SUMS" >&2
