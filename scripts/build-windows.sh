#!/bin/sh
# scripts/build-windows.sh OUT [LDFLAGS]: cross-compiles qvmeter.exe for
# windows/amd64 on Linux with Debian's MinGW-w64 (installed by
# scripts/toolchain.sh when missing). DuckDB is go-duckdb's prebuilt static
# library; libstdc++, libgcc and winpthread are linked statically, so OUT is
# one file that needs nothing beside it but Windows' own DLLs. LDFLAGS are
# passed to go build -ldflags (the release stamps the version with them).
#
# scripts/windows/ucrt_streambuf.cpp (compiled once into build/windows/)
# bridges the one C++ symbol the UCRT-built DuckDB library names differently
# from Debian's msvcrt libstdc++; see that file.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUT [LDFLAGS]" >&2; exit 2; }
out=$1
ldflags=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/toolchain.sh" mingw

cc=x86_64-w64-mingw32-gcc-posix
cxx=x86_64-w64-mingw32-g++-posix
objdir=$root/build/windows
bridge=$objdir/ucrt_streambuf.o
mkdir -p "$objdir"
if [ ! -f "$bridge" ] || [ "$root/scripts/windows/ucrt_streambuf.cpp" -nt "$bridge" ]; then
	$cxx -O2 -c -o "$bridge" "$root/scripts/windows/ucrt_streambuf.cpp"
fi

cd "$root"
# -w: the cgo headers of arrow-go warn by the hundred under MinGW's gcc.
CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$cc CXX=$cxx CGO_CFLAGS="-O2 -w" \
	go build -trimpath -ldflags "$ldflags -extldflags '-static $bridge'" -o "$out" ./cmd/qvmeter

# One file: the executable may import only DLLs every Windows has.
dlls=$(x86_64-w64-mingw32-objdump -p "$out" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
for dll in $dlls; do
	case $dll in
	kernel32.dll | advapi32.dll | msvcrt.dll | ws2_32.dll | wsock32.dll | rstrtmgr.dll | user32.dll | shell32.dll | ole32.dll | bcrypt.dll | ntdll.dll | winmm.dll) ;;
	*)
		echo "build-windows.sh: $out needs $dll, which Windows does not have; link it statically" >&2
		exit 1 ;;
	esac
done
