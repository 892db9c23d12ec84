#!/bin/sh
# scripts/toolchain.sh NEED...: installs, from Debian with apt-get, what the
# release build and the Windows test need, when it is missing. NEED is
#   mingw  the MinGW-w64 cross compilers (POSIX threads) for the Windows build
#   wine   Wine, to run the Windows binary in scripts/test-windows.sh
#   zip    zip, to pack the Windows release archive
# Without root it prints the apt-get command to run instead.
set -eu

pkgs=""
for need in "$@"; do
	case $need in
	mingw)
		command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 ||
			pkgs="$pkgs gcc-mingw-w64-x86-64-posix g++-mingw-w64-x86-64-posix" ;;
	wine)
		command -v wine >/dev/null 2>&1 || pkgs="$pkgs wine wine64" ;;
	zip)
		command -v zip >/dev/null 2>&1 || pkgs="$pkgs zip" ;;
	*)
		echo "toolchain.sh: unknown need $need (mingw, wine or zip)" >&2
		exit 2 ;;
	esac
done
[ -z "$pkgs" ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "toolchain.sh: missing Debian packages:$pkgs; run as root: apt-get install$pkgs" >&2
		exit 1
	fi
fi
echo "toolchain.sh: installing$pkgs" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
