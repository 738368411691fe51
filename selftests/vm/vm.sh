#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/vm.sh [-t TIMEOUT] [-c CACHEDIR] OUTDIR SCRIPT [FILE...]
#
# Boot Debian's kernel for the installed headers in QEMU (software
# emulation, 2 vCPUs, panic_on_warn) with a busybox initramfs holding
# FILE... in /lfq, run SCRIPT there as /lfq/test.sh, stream its output,
# and exit with its status. The kernel image comes from Debian's archive
# (apt-get download, not installed) and is cached in CACHEDIR.
#
# The whole console goes to OUTDIR/console.log. Any oops, BUG, WARNING,
# panic, lockup, hung task or sanitizer report on it fails the run, as
# does a run that never reaches the end of SCRIPT (timeout, panic).
set -euo pipefail

timeout=600
cache=build/vm/cache
while getopts t:c: opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	c) cache=$OPTARG ;;
	*) echo "usage: $0 [-t TIMEOUT] [-c CACHEDIR] OUTDIR SCRIPT [FILE...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { echo "usage: $0 [-t TIMEOUT] [-c CACHEDIR] OUTDIR SCRIPT [FILE...]" >&2; exit 2; }
out=$1 script=$2
shift 2

# The kernel: the one whose headers the modules were built against.
if [ -z "${KVER:-}" ]; then
	kdir=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null |
		grep -Ev -- '-(rt|cloud)-amd64$' | sort -V | tail -n 1)}
	[ -n "$kdir" ] || { echo "vm: no linux-headers-*-amd64 installed" >&2; exit 1; }
	kdir=$(readlink -f "$kdir")
	case $kdir in
	*/lib/modules/*/build) KVER=$(basename "$(dirname "$kdir")") ;;
	*) KVER=${kdir##*/linux-headers-} ;;
	esac
fi

# Debian's image of that kernel, unpacked once into the cache.
mkdir -p "$cache" "$out"
cache=$(readlink -f "$cache")
vmlinuz=$cache/vmlinuz-$KVER
if [ ! -s "$vmlinuz" ]; then
	fetch() {
		local pkg
		for pkg in "linux-image-$KVER" "linux-image-$KVER-unsigned"; do
			(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>&1) && return 0
		done
		return 1
	}
	echo "vm: fetching linux-image-$KVER from the Debian archive"
	if ! fetch; then
		[ "$(id -u)" -eq 0 ] && apt-get update -qq && fetch ||
			{ echo "vm: cannot download linux-image-$KVER (apt-get download)" >&2; exit 1; }
	fi
	deb=$(ls "$cache"/linux-image-"$KVER"*_amd64.deb | head -n 1)
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./boot/vmlinuz-$KVER" >"$vmlinuz.tmp"
	mv "$vmlinuz.tmp" "$vmlinuz"
	rm -f "$deb"
fi

# The initramfs: busybox, /init, and the test files in /lfq.
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

# Boot. The console is the serial port; the script's lines (not the
# kernel's timestamped ones) are streamed between the two markers.
log=$out/console.log
append="console=ttyS0 loglevel=5 panic=-1 panic_on_warn=1 oops=panic"
append+=" softlockup_panic=1 hung_task_panic=1 hung_task_timeout_secs=120"
append+=" nokaslr mitigations=off"
accel=tcg
[ -w /dev/kvm ] && accel=kvm
set +e
timeout -k 10 "$timeout" qemu-system-x86_64 -accel "$accel" -cpu max -smp 2 \
	-m 1024 -display none -monitor none -serial stdio -no-reboot \
	-kernel "$vmlinuz" -initrd "$out/initramfs.gz" -append "$append" \
	</dev/null 2>&1 | tr -d '\r' | tee "$log" |
	awk -v all="${V:-0}" '
		/^LFQ-VM-START$/ { on = 1; next }
		/^LFQ-VM-EXIT=/  { on = 0 }
		all == 1 || (on && !/^\[ *[0-9]+\.[0-9]+\]/) { print; fflush() }'
qemu_rc=${PIPESTATUS[0]}
set -e

bad=$(grep -nE 'BUG:|WARNING:|Oops|Kernel panic|general protection fault|soft lockup|hard LOCKUP|blocked for more than|KASAN|UBSAN|circular locking|lockdep|Call Trace|RIP: ' "$log" | head -n 20 || true)
rc=$(sed -n 's/^LFQ-VM-EXIT=\([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -n "$bad" ]; then
	echo "vm: the kernel reported a problem (see $log):"
	sed 's/^/vm: /' <<<"$bad"
	exit 1
fi
if [ -z "$rc" ]; then
	[ "$qemu_rc" -eq 124 ] && echo "vm: timed out after ${timeout}s (see $log)" ||
		echo "vm: the VM stopped before the script ended, status $qemu_rc (see $log)"
	exit 1
fi
exit "$rc"
