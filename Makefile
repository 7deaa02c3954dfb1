# tl: ternary-weight transformer language models for old x86 CPUs.
# Builds lib/libcore.a, the programs in bin/ and the C unit tests in
# build/; `make check` runs every test through bats.
#
# `make SAN=1 check` builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer (with float-cast-overflow, which gcc leaves
# out of undefined; any report is fatal) and runs the tests
# on that build; a later plain `make` rebuilds without them (build/flags
# records the flags, and every object depends on it).  `make fuzz`
# builds the libFuzzer harnesses of tests/fuzz/ with clang into
# build/fuzz/; scripts/fuzz.sh runs them.
#
# `make MPI=1` builds tl-train for runs across machines (tl-train(1),
# "Runs across machines"): through mpicc, with cmd/tl-train/mpi.c in
# place of alone.c; the rest of the build does not change, and a
# later plain `make` builds the plain tl-train again (build/team
# records which).  bin/tl-mpirun, which runs mpirun for it
# (tl-mpirun(1)), is in every build: it needs no MPI.

PREFIX ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
CFLAGS ?= -O2 -g
LDFLAGS ?=
SAN ?=
MPI ?=
MPICC ?= mpicc
FUZZCC ?= clang
FUZZFLAGS ?= -O1 -g

SANFLAGS = -fsanitize=address,undefined,float-cast-overflow \
	-fno-sanitize-recover=all \
	-fno-omit-frame-pointer
ifeq ($(SAN),)
XFLAGS =
else
XFLAGS = $(SANFLAGS)
endif

TL_CFLAGS = -std=c99 -Wall -Wextra -D_POSIX_C_SOURCE=200809L \
	-D_FILE_OFFSET_BITS=64 -pthread -Ilib
TL_LDLIBS = -pthread -lm

# lib/ has a folder per layer (scripts/layers.sh); a program is
# cmd/tl-NAME.c, or every .c of cmd/tl-NAME/ for a larger one.
LIBSRC = $(wildcard lib/*/*.c)
LIBOBJ = $(LIBSRC:lib/%.c=build/lib/%.o)
HDR = $(wildcard lib/*/*.h)
PROG1 = $(patsubst cmd/%.c,bin/%,$(wildcard cmd/tl-*.c))
PROGN = $(patsubst cmd/%/,bin/%,$(wildcard cmd/tl-*/))
PROGS = $(PROG1) $(PROGN)
UNITS = $(patsubst tests/unit/%.c,build/%,$(wildcard tests/unit/test_*.c))
MAN1 = $(wildcard man/*.1)
MAN5 = $(wildcard man/*.5)
MAN7 = $(wildcard man/*.7)
FUZZ = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY = $(patsubst tests/fuzz/fuzz_%.c,build/replay_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZOBJ = $(LIBSRC:lib/%.c=build/fuzz/lib/%.o)
FLAGS = $(CC) $(CFLAGS) $(XFLAGS) $(LDFLAGS)

# tl-train's team (cmd/tl-train/team.h): alone, or the ranks of an MPI
# job; the file of the other is left out.
ifeq ($(MPI),)
TEAM = alone
NOTEAM = cmd/tl-train/mpi.c
else
TEAM = mpi
NOTEAM = cmd/tl-train/alone.c
bin/tl-train: PROGCC = $(MPICC)
endif
PROGCC = $(CC)

all: $(PROGS) $(UNITS) $(REPLAY)

# Rewritten only when the flags change, so that a change rebuilds all.
build/flags: FORCE
	@mkdir -p build
	@echo '$(FLAGS)' | cmp -s - $@ || echo '$(FLAGS)' > $@

build/team: FORCE
	@mkdir -p build
	@echo '$(TEAM) $(MPICC)' | cmp -s - $@ || echo '$(TEAM) $(MPICC)' > $@

build/lib/%.o: lib/%.c $(HDR) build/flags
	@mkdir -p $(dir $@)
	$(CC) $(TL_CFLAGS) $(CFLAGS) $(XFLAGS) -c -o $@ $<

build/libcore.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

bin/%: cmd/%.c build/libcore.a $(HDR) build/flags
	@mkdir -p bin
	$(CC) $(TL_CFLAGS) $(CFLAGS) $(XFLAGS) $(LDFLAGS) -o $@ $< build/libcore.a $(TL_LDLIBS)

.SECONDEXPANSION:
$(PROGN): bin/%: $$(wildcard cmd/%/*.c) $$(wildcard cmd/%/*.h) build/libcore.a $(HDR) build/flags build/team
	@mkdir -p bin
	$(PROGCC) $(TL_CFLAGS) $(CFLAGS) $(XFLAGS) $(LDFLAGS) -o $@ $(filter-out $(NOTEAM),$(filter %.c,$^)) build/libcore.a $(TL_LDLIBS)

build/test_%: tests/unit/test_%.c tests/unit/unit.h build/libcore.a $(HDR) build/flags
	$(CC) $(TL_CFLAGS) $(CFLAGS) $(XFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< build/libcore.a $(TL_LDLIBS)

# Each fuzz harness as a plain program that runs it on the files it is
# given (tests/fuzz/replay.c): the bats tests replay the seeds and the
# crash inputs of tests/data with it, under gcc and SAN=1.
build/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h build/libcore.a $(HDR) build/flags
	$(CC) $(TL_CFLAGS) $(CFLAGS) $(XFLAGS) $(LDFLAGS) -Itests/fuzz \
		-DTL_DATA='"$(CURDIR)/tests/data"' -o $@ tests/fuzz/replay.c $< \
		build/libcore.a $(TL_LDLIBS)

# What the tests need first (scripts/test-deps.sh installs it as root on
# Debian, or names it and stops); NODEPS=1 runs with what is there, and
# a test whose tool is missing skips.
check:
	@$(if $(NODEPS),:,scripts/test-deps.sh)
	@$(MAKE) --no-print-directory all
	bats $(BATSFLAGS) tests/

# The library again, built with clang for libFuzzer, and one program
# per harness.
fuzz: $(FUZZ)

# The numerical kernels get the sanitizers but no coverage feedback:
# their branches depend on sizes, not on the input's bytes, and tracing
# them would slow every harness that runs a model tenfold.
FUZZNOCOV = attention dispatch gemm kernels_avx2 kernels_ref kernels_sse \
	kernels_sse2 kernels_sse41 layers pool sgemm

build/fuzz/lib/%.o: lib/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(FUZZCC) $(TL_CFLAGS) $(FUZZFLAGS) -fsanitize=address,undefined \
		$(if $(filter $(notdir $*),$(FUZZNOCOV)),,-fsanitize=fuzzer-no-link) \
		-fno-sanitize-recover=all -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZOBJ) $(HDR)
	$(FUZZCC) $(TL_CFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -DTL_DATA='"$(CURDIR)/tests/data"' \
		-o $@ $< $(FUZZOBJ) $(TL_LDLIBS)

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

.PHONY: all check fuzz install uninstall clean FORCE
.SECONDARY: $(LIBOBJ) $(FUZZOBJ)
