# tl: ternary-weight transformer language models for old x86 CPUs.
# Builds lib/libcore.a, the programs in bin/ and the C unit tests in
# build/; `make check` runs every test through bats.

PREFIX ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
CFLAGS ?= -O2 -g
LDFLAGS ?=

TL_CFLAGS = -std=c99 -Wall -Wextra -D_POSIX_C_SOURCE=200809L \
	-D_FILE_OFFSET_BITS=64 -pthread -Ilib
TL_LDLIBS = -pthread -lm

LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:lib/%.c=build/lib/%.o)
HDR = $(wildcard lib/*.h)
PROGS = $(patsubst cmd/%.c,bin/%,$(wildcard cmd/tl-*.c))
UNITS = $(patsubst tests/unit/%.c,build/%,$(wildcard tests/unit/test_*.c))
MAN1 = $(wildcard man/*.1)
MAN5 = $(wildcard man/*.5)
MAN7 = $(wildcard man/*.7)

all: $(PROGS) $(UNITS)

build/lib/%.o: lib/%.c $(HDR)
	@mkdir -p build/lib
	$(CC) $(TL_CFLAGS) $(CFLAGS) -c -o $@ $<

build/libcore.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

bin/%: cmd/%.c build/libcore.a $(HDR)
	@mkdir -p bin
	$(CC) $(TL_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libcore.a $(TL_LDLIBS)

build/test_%: tests/unit/test_%.c tests/unit/unit.h build/libcore.a $(HDR)
	$(CC) $(TL_CFLAGS) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< build/libcore.a $(TL_LDLIBS)

check: all
	bats $(BATSFLAGS) tests/

install: $(PROGS)
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(MANPREFIX)/man5 $(DESTDIR)$(MANPREFIX)/man7
	cp -f $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/
	cp -f $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/

uninstall:
	rm -f $(PROGS:bin/%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANPREFIX)/man1/%)
	rm -f $(MAN5:man/%=$(DESTDIR)$(MANPREFIX)/man5/%)
	rm -f $(MAN7:man/%=$(DESTDIR)$(MANPREFIX)/man7/%)

clean:
	rm -rf build bin

.PHONY: all check install uninstall clean
.SECONDARY: $(LIBOBJ)
