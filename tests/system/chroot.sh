# tests/system/chroot.sh, sourced by deb.sh and image.sh: mounts into a chroot at $ROOT that are
# all undone when the script exits (in reverse order, lazily), and a command run inside it with
# a clean environment.
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[$i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT
# bind SOURCE TARGET [mount options...]: mounts SOURCE on TARGET (made if missing).
bind() {
	mkdir -p "$2"
	mount "${@:3}" "$1" "$2"
	mounted+=("$2")
}
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive HOME=/root "$@"; }
