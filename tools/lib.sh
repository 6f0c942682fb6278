# Shared by tools/run and tools/test: Debian packages and the meson build.
# Sourced, not executed.

# What building Prism needs.
BUILD_PACKAGES="gcc meson ninja-build pkg-config libwlroots-dev libwayland-dev
	wayland-protocols libxkbcommon-dev libpixman-1-dev libdrm-dev libepoxy-dev
	libinih-dev libfcft-dev libpng-dev plasma-wayland-protocols libseccomp-dev libinput-dev scdoc
	python3"
# What running it needs: a font for the title bars, keymaps, demo clients.
RUN_PACKAGES="fonts-dejavu-core xkb-data weston foot"
# What the tests drive: real clients from Debian and Python for the harness;
# Mesa's EGL and software rasteriser, on which the frame program is checked
# offscreen where there is no GPU.
TEST_PACKAGES="$RUN_PACKAGES python3 wayland-utils wl-clipboard gtk-3-examples
	gtk-4-examples libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri"
# The fuzzers: clang, with libFuzzer and the sanitizer runtimes.
FUZZ_PACKAGES="clang libclang-rt-14-dev"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "prism: need root (or sudo) to run: $*" >&2
		return 1
	fi
}

# Install whichever of the given Debian packages are missing.
ensure_packages() {
	missing=""
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		[ "$status" = installed ] || missing="$missing $pkg"
	done
	[ -n "$missing" ] || return 0
	echo "prism: installing Debian packages:$missing" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
}

# Configure once, then build incrementally.
build_prism() {
	dir="$1"
	shift
	if [ ! -f "$top/$dir/build.ninja" ]; then
		meson setup "$top/$dir" "$top" "$@"
	fi
	meson compile -C "$top/$dir"
}
