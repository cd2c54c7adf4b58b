# shellcheck shell=sh
# A private apt configuration for fetching Debian packages without
# installing them and without touching the host's apt: its own sources
# (Debian's bullseye, bookworm with its backports, trixie and sid), lists
# and download cache under one directory. Sourced by tests/kernels/fetch.sh
# and tests/go/toolchains.sh.
#
#   debian_apt_init DIR   set up DIR (sources.list, lists, cache); sets APTOPTS
#   debian_apt_update     apt-get update, at most once a run and once an hour
#   debian_apt_resolve SUITE REGEX
#                         newest package whose name matches REGEX that SUITE
#                         carries (empty when none)
#   debian_apt_download DIR PKG [SUITE]
#                         apt-get download PKG (from SUITE) into DIR; prints
#                         the .deb path
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
# DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
# Messages go to stderr through the caller's log() function.

debian_apt_init() {
	DEBIAN_APT_DIR=$1
	_mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	_sec=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
	_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$DEBIAN_APT_DIR/lists/partial" \
		"$DEBIAN_APT_DIR/cache/archives/partial"
	cat > "$DEBIAN_APT_DIR/sources.list" <<EOS
deb [signed-by=$_keyring] $_mirror bullseye main
deb [signed-by=$_keyring] $_sec bullseye-security main
deb [signed-by=$_keyring] $_mirror bookworm main
deb [signed-by=$_keyring] $_sec bookworm-security main
deb [signed-by=$_keyring] $_mirror bookworm-backports main
deb [signed-by=$_keyring] $_mirror trixie main
deb [signed-by=$_keyring] $_mirror sid main
EOS
	APTOPTS="-o Dir::Etc::SourceList=$DEBIAN_APT_DIR/sources.list
 -o Dir::Etc::SourceParts=$DEBIAN_APT_DIR/none.d
 -o Dir::State::Lists=$DEBIAN_APT_DIR/lists
 -o Dir::Cache=$DEBIAN_APT_DIR/cache
 -o Dir::Cache::pkgcache=pkgcache.bin
 -o Dir::Cache::srcpkgcache=srcpkgcache.bin
 -o Dir::State::Status=/var/lib/dpkg/status
 -o APT::Get::List-Cleanup=0
 -o Debug::NoLocking=1
 -o APT::Sandbox::User=root"
	debian_apt_updated=0
}

debian_apt_update() {
	[ "$debian_apt_updated" = 1 ] && return 0
	debian_apt_updated=1
	# Refresh the lists at most once an hour.
	_stamp="$DEBIAN_APT_DIR/updated.stamp"
	if [ -f "$_stamp" ] &&
	   [ -n "$(find "$_stamp" -mmin -60 2>/dev/null)" ]; then
		return 0
	fi
	log "apt-get update (private lists in $DEBIAN_APT_DIR)"
	# shellcheck disable=SC2086
	if apt-get $APTOPTS -qq update >&2; then
		touch "$_stamp"
	else
		log "apt-get update failed; using the lists we have"
	fi
}

debian_apt_resolve() {
	_suite=$1 _re=$2
	# shellcheck disable=SC2086
	_pkgs=$(apt-cache $APTOPTS search --names-only "$_re" 2>/dev/null |
		awk '{print $1}' | grep -E "$_re")
	[ -n "$_pkgs" ] || return 0
	# one apt-cache policy for all of them: "NAME:" starts a block
	# shellcheck disable=SC2086
	apt-cache $APTOPTS policy $_pkgs 2>/dev/null |
		awk -v s=" $_suite/main " '
			/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1); next }
			index($0, s) { print name }' |
		sort -u | sort -V | tail -n 1
}

debian_apt_download() {
	_dir=$1 _pkg=$2 _suite=${3:-}
	# shellcheck disable=SC2086
	(cd "$_dir" &&
	 apt-get $APTOPTS -qq download "$_pkg${_suite:+/$_suite}" >&2) ||
		return 1
	ls "$_dir/$_pkg"_*.deb
}
