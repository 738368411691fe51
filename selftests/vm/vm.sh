#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/vm.sh [-t TIMEOUT] [-c CACHEDIR] OUTDIR SCRIPT [FILE...]
#
# Boot Debian's kernel for the installed headers in QEMU (software
# emulation, 2 vCPUs, panic_on_warn) with a busybox initramfs holding
# FILE... in /lfq, run SCRIPT there as /lfq/test.sh, stream its output,
# and exit with its status. The kernel image comes from Debian's archive
# (apt-get download, never installed) and is cached in CACHEDIR
# (default build/vm/cache).
#
# The kernel version is $KVER, else the one of $KDIR, else the newest
# /usr/src/linux-headers-*-amd64.
#
# The whole console goes to OUTDIR/console.log. Any oops, BUG, WARNING,
# panic, lockup, hung task, lockdep or sanitizer report on it fails the
# run, as does a run that never reaches the end of SCRIPT (timeout, panic).
# V=1 streams the whole console instead of only SCRIPT's output.
set -euo pipefail

usage() {
	echo "usage: $0 [-t TIMEOUT] [-c CACHEDIR] OUTDIR SCRIPT [FILE...]" >&2
	exit 2
}
timeout=600
cache=build/vm/cache
while getopts t:c: opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	c) cache=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
out=$1 script=$2
shift 2

# The kernel: the one whose headers the modules were built against.
if [ -z "${KVER:-}" ]; then
	kdir=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null |
		grep -Ev -- '-(rt|cloud)-amd64$' | sort -V | tail -n 1)}
	case $kdir in
	"")	echo "vm: no linux-headers-*-amd64 installed; set KVER or KDIR" >&2
		exit 1 ;;
	*/lib/modules/*/build|*/lib/modules/*/build/)
		KVER=${kdir%/}; KVER=${KVER%/build}; KVER=${KVER##*/} ;;
	*)	KVER=$(basename "$(readlink -f "$kdir")")
		KVER=${KVER#linux-headers-} ;;
	esac
fi

# Debian's image of that kernel, unpacked once into the cache. Only
# /boot/vmlinuz is kept (the package's modules are not needed: the
# initramfs carries the test modules). flock: parallel runs share it.
mkdir -p "$cache" "$out"
cache=$(readlink -f "$cache")
vmlinuz=$cache/vmlinuz-$KVER
download() {
	local pkg
	for pkg in "linux-image-$KVER" "linux-image-$KVER-unsigned"; do
		(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>&1) &&
			return 0
	done
	return 1
}
exec 9>"$cache/.lock"
flock 9
if [ ! -s "$vmlinuz" ]; then
	echo "vm: fetching linux-image-$KVER from the Debian archive" >&2
	if ! download; then
		# a stale package list is the usual reason; refresh it once
		if [ "$(id -u)" -ne 0 ] || ! apt-get update -qq || ! download; then
			echo "vm: cannot apt-get download linux-image-$KVER;" \
				"the archive only keeps the current kernel: upgrade" \
				"linux-headers-amd64 and rebuild, or set KVER" >&2
			exit 1
		fi
	fi
	debs=("$cache"/linux-image-"$KVER"*_amd64.deb)
	dpkg-deb --fsys-tarfile "${debs[0]}" |
		tar -xO "./boot/vmlinuz-$KVER" >"$vmlinuz.tmp"
	mv "$vmlinuz.tmp" "$vmlinuz"
	rm -f "$cache"/linux-image-"$KVER"*_amd64.deb
fi
exec 9>&-

# The initramfs: static busybox, /init, SCRIPT as /lfq/test.sh and the
# FILEs next to it (cp -p keeps them executable).
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,lfq}
cp /bin/busybox "$root/bin/busybox"
for f in "$@"; do
	cp -p "$f" "$root/lfq/"
done
cp "$script" "$root/lfq/test.sh"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "LFQ-VM-START"
cd /lfq && sh ./test.sh
echo "LFQ-VM-EXIT=$?"
poweroff -f
echo o >/proc/sysrq-trigger
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.gz"

# Boot. loglevel=5 rather than 4: WARNING and lockdep splats are
# KERN_WARNING and must reach the console to be caught. panic=-1 reboots
# on a panic, which -no-reboot turns into QEMU exiting. With
# console_msg_format=syslog the kernel's console lines start with "<N>[",
# which tells them apart from the script's (even its dmesg output).
log=$out/console.log
append="console=ttyS0 console_msg_format=syslog quiet loglevel=5"
append+=" panic=-1 panic_on_warn=1 oops=panic"
append+=" softlockup_panic=1 hung_task_panic=1 sysctl.kernel.hung_task_timeout_secs=120"
append+=" nokaslr mitigations=off"
# Software emulation, one host thread per vCPU; KVM first where usable
# (QEMU falls back to the next -accel if it cannot open it).
accel=(-accel tcg,thread=multi)
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	accel=(-accel kvm "${accel[@]}")
fi
# The script's lines (not the kernel's) between the two markers are
# streamed as they come. --foreground: ^C reaches QEMU.
start=$SECONDS
set +e
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
	-machine q35 "${accel[@]}" -cpu max -smp 2 -m 1024 \
	-display none -monitor none -serial stdio -nic none -no-reboot \
	-kernel "$vmlinuz" -initrd "$out/initramfs.gz" -append "$append" \
	</dev/null 2>&1 | tr -d '\r' | tee "$log" |
	awk -v all="${V:-0}" '
		/^LFQ-VM-START$/ { on = 1; next }
		/^LFQ-VM-EXIT=/  { on = 0 }
		all == 1 || (on && !/^<[0-9]+>\[/) { print; fflush() }'
qemu_rc=${PIPESTATUS[0]}
set -e

# Scan the kernel's lines ("<N>[" anywhere: they may cut into a script
# line) for anything that is not a clean run. Tainting by an unsigned
# out-of-tree module is expected and matches none of these.
bad=$(grep -E '<[0-9]+>\[.*(BUG:|WARNING:|Oops|Kernel panic|general protection|soft lockup|hard LOCKUP|blocked for more than|KASAN|UBSAN|KCSAN|possible circular locking|lockdep|Call Trace|RIP: )' \
	"$log" | head -n 20 || true)
rc=$(sed -n 's/^LFQ-VM-EXIT=\([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -n "$bad" ]; then
	echo "vm: the kernel reported a problem (see $log):"
	sed 's/^/vm: /' <<<"$bad"
	exit 1
fi
if [ -z "$rc" ]; then
	case $qemu_rc in
	124|137) echo "vm: timed out after ${timeout}s (see $log)" ;;
	0)	echo "vm: the VM stopped before the script ended (see $log)" ;;
	*)	echo "vm: QEMU failed with status $qemu_rc before the script ended (see $log):"
		tail -n 5 "$log" | sed 's/^/vm: /' ;;
	esac
	exit 1
fi
[ "${V:-0}" = 1 ] && echo "vm: script exited $rc after $((SECONDS - start))s"
exit "$rc"
