#!/usr/bin/env bats
# make install and uninstall honour PREFIX and DESTDIR.

load helper

@test "install: programs and man pages land under DESTDIR/PREFIX, uninstall removes them" {
	d="$BATS_TEST_TMPDIR/root"
	make -s -C "$TOP" install DESTDIR="$d" PREFIX=/opt/tl >/dev/null
	for c in "$TOP"/cmd/tl-*; do
		n=$(basename "$c" .c)
		[ -x "$d/opt/tl/bin/$n" ]
		[ -f "$d/opt/tl/share/man/man1/$n.1" ]
	done
	[ -f "$d/opt/tl/share/man/man5/tl-checkpoint.5" ]
	[ -f "$d/opt/tl/share/man/man7/tl.7" ]
	${TL_EXEC:-} "$d/opt/tl/bin/tl-train" -V
	make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/opt/tl >/dev/null
	[ -z "$(find "$d" -type f)" ]
}
