# httptrace-bpf: one entry point for build, test, bench and install.
#
#   make            build/httptrace-bpf
#   make test       unit (plain + ASan/UBSan), BPF, fuzz smoke, end to end
#                   (BPF and end to end need root)
#   make deps       install missing Debian packages
#   make install    binary, systemd unit, README (PREFIX, DESTDIR);
#                   make uninstall removes them
#   make V=1        show commands
#
# Header dependencies are tracked with -MMD -MP for userspace and BPF.

BUILD     ?= build
PREFIX    ?= /usr/local
CLANG     ?= clang
CC        ?= cc
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow \
	     -iquote include -iquote src -I$(BUILD) -DHTTPTRACE_VERSION='"$(VERSION)"'
DEPFLAGS   = -MMD -MP
# the pure code's libraries (unit tests and fuzzers link them too):
# zlib, libnghttp2's HPACK inflater (proto/http2/h2_hpack.c),
# Zydis (discover/go_locate.c: the RETs of Go functions),
# libmicrohttpd (sink/prometheus/: the /metrics server). A release
# without libzydis-dev (Ubuntu 22.04) still builds: Go programs' TLS is
# then not decoded, and --probe and the tracer's messages say why; one
# without libmicrohttpd-dev too: --metrics-addr then says why it fails.
NGHTTP2_LIBS := $(shell pkg-config --libs libnghttp2 2>/dev/null || echo -lnghttp2)
HAVE_ZYDIS := $(shell $(CC) -E -include Zydis/Zydis.h -x c /dev/null \
		>/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_ZYDIS),yes)
ZYDIS_LIBS := -lZydis
else
ZYDIS_LIBS :=
CFLAGS += -DGO_LOCATE_NO_ZYDIS
$(warning libzydis-dev is missing: Go programs' TLS will not be decoded)
endif
HAVE_MHD := $(shell $(CC) -E -include microhttpd.h -x c /dev/null \
		>/dev/null 2>&1 && echo yes)
ifneq ($(HAVE_MHD),yes)
CFLAGS += -DPROM_NO_MHD
$(warning libmicrohttpd-dev is missing: --metrics-addr will not work)
endif
# libcurl (the OTLP exporter's HTTP client) and libmicrohttpd are
# opened (dlopen) when their exporter is asked for, not linked
# (src/sink/otlp/otlp_curl.h): only their headers are needed here.
PURE_LIBS := -lz $(NGHTTP2_LIBS) $(ZYDIS_LIBS) -ldl -lpthread
LDLIBS    += -lbpf -lelf $(PURE_LIBS)
# the tracer alone: libcap for the capability drop after attaching
# (kernel/privileges.c), with libpsx, which wraps pthread_create to
# know every thread the drop must reach. -lpsx before -lcap: libcap.so
# has a weak stand-in for libpsx's hook, and the dynamic linker takes
# the first library that defines it (pkg-config's order drops the
# main thread's capabilities only).
CAP_LIBS  := -lpsx -lcap -lpthread -Wl,-wrap,pthread_create

BPF_CFLAGS = -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I. -Iinclude -Ibpf \
	     -Wall -Wno-unused-function

# src/kernel/, src/cmd/ and main.c are the userspace code that uses libbpf;
# every other folder of src/ is pure (no kernel, no libbpf) by being
# there, and is linked into the unit tests and fuzzers.
KERNEL_SRCS := src/main.c $(wildcard src/kernel/*.c src/cmd/*.c)
ALL_SRCS    := $(shell find src -name '*.c' | LC_ALL=C sort)
PURE_SRCS   := $(filter-out $(KERNEL_SRCS),$(ALL_SRCS))

BPF_SRCS    := bpf/httptrace.bpf.c
BPF_OBJS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
# the same programs for kernels without BPF atomic fetch (before 5.12),
# and with uprobe programs run with preemption off (core_fixes.bpf.h):
# src/kernel/variants.c loads one of the three
SKELS       := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS)) \
	       $(BUILD)/httptrace_unnumbered.skel.h \
	       $(BUILD)/httptrace_guarded.skel.h

OBJS        := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(ALL_SRCS))
PURE_OBJS   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(PURE_SRCS))
ASAN_OBJS   := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(PURE_SRCS))

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_ASAN   := $(patsubst tests/unit/%.c,$(BUILD)/tests-asan/%,$(UNIT_SRCS))
BPF_TEST    := $(BUILD)/tests/bpf_test
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
# the TLS fixtures need libssl-dev, a test dependency: not in `make`
TEST_FIXTURE_BINS := $(BUILD)/fixtures/ht_tls_peek_client \
		     $(BUILD)/fixtures/ht_tls_pair
FIXTURE_BINS := $(filter-out $(TEST_FIXTURE_BINS), \
		$(patsubst tests/fixtures/%.c,$(BUILD)/fixtures/%, \
			   $(FIXTURE_SRCS)))

SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer \
	       -fno-sanitize-recover=undefined
FUZZ_RUNS   ?= 20000

.PHONY: all fixtures tools go-fixtures test test-unit test-bpf test-fuzz test-replay \
	test-e2e test-lifecycle deps install uninstall test-install clean \
	vmlinux fuzz

all: $(BUILD)/httptrace-bpf fixtures

# the test fixtures (tests/fixtures/); `tools` is the name they had
fixtures tools: $(FIXTURE_BINS)

$(BUILD) $(BUILD)/obj $(BUILD)/asan $(BUILD)/tests $(BUILD)/tests-asan \
$(BUILD)/fuzz $(BUILD)/fixtures:
	$(Q)mkdir -p $@

# ---- BPF side -------------------------------------------------------------

$(BUILD)/%.bpf.o: bpf/%.bpf.c vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -MF $(@:.o=.d) -MT $@ -c $< -o $@

$(BUILD)/httptrace_unnumbered.bpf.o: bpf/httptrace.bpf.c vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DHT_ATOMIC_FETCH=0 $(DEPFLAGS) \
		-MF $(@:.o=.d) -MT $@ -c $< -o $@
	$(Q)tools/check-no-atomic-fetch.sh $@ || { rm -f $@; exit 1; }

$(BUILD)/httptrace_guarded.bpf.o: bpf/httptrace.bpf.c vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DHT_PREEMPT_GUARD=1 $(DEPFLAGS) \
		-MF $(@:.o=.d) -MT $@ -c $< -o $@

# Kept after the build: make would otherwise delete them as intermediates
# and rebuild every object on the next run.
.SECONDARY: $(SKELS) $(SKELS:.skel.h=.bpf.o) $(ASAN_OBJS)

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# ---- userspace ------------------------------------------------------------

# Every userspace object may include a skeleton, so skeletons come first.
$(BUILD)/obj/%.o: src/%.c $(SKELS) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/httptrace-bpf: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDFLAGS) $(LDLIBS) $(CAP_LIBS) -o $@

# fixtures that need more than libc say so here
FIXTURE_LIBS_ht_tls_peek_client := -lssl -lcrypto
FIXTURE_LIBS_ht_tls_pair := -lssl -lcrypto

$(BUILD)/fixtures/%: tests/fixtures/%.c | $(BUILD)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< -o $@ -lpthread $(FIXTURE_LIBS_$*)

# ---- tests ----------------------------------------------------------------

$(BUILD)/asan/%.o: src/%.c | $(BUILD)/asan
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(PURE_OBJS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/unit $< $(PURE_OBJS) -o $@ $(PURE_LIBS)

$(BUILD)/tests-asan/%: tests/unit/%.c $(ASAN_OBJS) | $(BUILD)/tests-asan
	$(call msg,CC-SAN,$@)
	$(Q)$(CLANG) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -Itests/unit $< \
		$(ASAN_OBJS) -o $@ $(PURE_LIBS)

# The BPF programs alone, loaded from the skeleton (tests/bpf/), with the
# variants the tracer would choose (variants.o).
BPF_TEST_OBJS := $(BUILD)/obj/kernel/variants.o \
		 $(BUILD)/obj/kernel/go_attach.o \
		 $(BUILD)/obj/kernel/uprobe_multi.o $(PURE_OBJS)

$(BPF_TEST): tests/bpf/bpf_test.c $(BPF_TEST_OBJS) $(SKELS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/unit $< $(BPF_TEST_OBJS) \
		-o $@ $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(PURE_SRCS) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=fuzzer,address,undefined \
		$(DEPFLAGS) $< $(PURE_SRCS) -o $@ $(PURE_LIBS)

fuzz: $(FUZZ_BINS)

# Go programs for test_go_locate (tests/unit/go_locate_bins.sh), built
# with each Go toolchain at hand when go is on PATH; without it the test
# says what it skipped (under CI=true that is a failure).
GO_LOCATE_BINS := $(BUILD)/tests/go
# the net.Conn wrappers the Go fixtures import (replace => ../connwrap)
GO_CONNWRAP := $(wildcard tests/fixtures/go/connwrap/*)
GO_LOCATE_STAMP := $(if $(shell command -v go 2>/dev/null), \
			$(GO_LOCATE_BINS)/stamp)

$(GO_LOCATE_BINS)/stamp: tests/unit/go_locate_bins.sh \
		$(wildcard tests/fixtures/go/tlsprobe/*) $(GO_CONNWRAP) \
		$(wildcard tests/go/toolchains.sh)
	$(call msg,GO,$(GO_LOCATE_BINS))
	$(Q)tests/unit/go_locate_bins.sh $(GO_LOCATE_BINS) && touch $@

# Every test command runs under a time limit (tests/lib/bounded.sh): one
# that hangs fails with where its threads were waiting, instead of
# holding CI until CI's own limit stops it with nothing said.
BOUNDED      = tests/lib/bounded.sh
BOUNDED_UNIT = $(BOUNDED) 600
BOUNDED_LONG = $(BOUNDED) 2400

test-unit: $(UNIT_BINS) $(UNIT_ASAN) $(GO_LOCATE_STAMP)
	$(Q)rc=0; for t in $(UNIT_BINS) $(UNIT_ASAN); do \
		echo "== $$t"; GO_LOCATE_BINS=$(GO_LOCATE_BINS) \
		$(BOUNDED_UNIT) $$t || rc=1; \
		done; exit $$rc

# Root; without it SKIP, or a failure under CI=true. One test:
# build/tests/bpf_test -t writev_readv (-l lists them); another attach
# mode: -m kprobe or -m fentry (the kernel matrix runs all three).
# Go programs the tests run (tests/fixtures/go/<name>/), built with the
# host's go alone: no toolchain download, no module proxy, its cache in
# the build directory.
GO          ?= go
GO_TLSPAIR  := $(BUILD)/fixtures/go/tlspair

test-bpf: $(BPF_TEST) $(GO_TLSPAIR) $(GO_TLSPAIR)-pie-stripped
	$(Q)GO_TLSPAIR=$(GO_TLSPAIR) $(BOUNDED_UNIT) $(BPF_TEST)
	$(Q)echo "bpf: again with the variants of kernels before 5.12 (HTTPTRACE_WITHOUT)"
	$(Q)HTTPTRACE_WITHOUT=atomic-fetch,fexit-return-value,attach-cookie,preemption-guard \
		GO_TLSPAIR=$(GO_TLSPAIR) $(BOUNDED_UNIT) $(BPF_TEST)

# One Go build cache for every Go build of the tests and benchmarks, all
# toolchains (Go keys its cache by the compiler's build id): each
# toolchain's standard library is compiled once per set of flags, not
# once per script (tests/go/build.sh, tests/unit/go_locate_bins.sh,
# tests/go/toolchains.sh and mk/bench.mk take it from here).
export HT_GOCACHE ?= $(abspath $(BUILD))/go-cache
GO_BUILD    = cd $(<D) && GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
	      GOCACHE=$(HT_GOCACHE) \
	      GOPATH=$(abspath $(BUILD))/go/path $(GO) build

$(GO_TLSPAIR): tests/fixtures/go/tlspair/main.go \
	       tests/fixtures/go/tlspair/go.mod $(GO_CONNWRAP)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(GO_BUILD) -o $(abspath $@) .

# the same as PIE without symbols: functions from .gopclntab, offsets
# of a binary mapped anywhere
$(GO_TLSPAIR)-pie-stripped: tests/fixtures/go/tlspair/main.go \
			    tests/fixtures/go/tlspair/go.mod $(GO_CONNWRAP)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(GO_BUILD) -buildmode=pie -ldflags='-s -w' -o $(abspath $@) .

# New inputs go to a scratch corpus (first directory); the committed seeds
# (second) are only read, so a test run never dirties the tree.
test-fuzz: $(FUZZ_BINS)
	$(Q)rc=0; pass=0; fail=0; for f in $(FUZZ_BINS); do \
		name=$$(basename $$f); \
		rm -rf $(BUILD)/fuzz/$$name.corpus; \
		mkdir -p $(BUILD)/fuzz/$$name.corpus; \
		echo "== $$f ($(FUZZ_RUNS) runs)"; \
		if $(BOUNDED_UNIT) $$f -runs=$(FUZZ_RUNS) -max_len=4096 \
			$(BUILD)/fuzz/$$name.corpus \
			$$(test -d tests/fuzz/corpus/$$name && \
			   echo tests/fuzz/corpus/$$name) \
			2>$(BUILD)/fuzz/$$name.log; then pass=$$((pass + 1)); \
		else tail -40 $(BUILD)/fuzz/$$name.log; rc=1; \
			fail=$$((fail + 1)); fi; \
	done; echo "fuzz: $$pass passed, $$fail failed"; exit $$rc

# The HTTPS cases once more with a perf-event link per uprobe: the way
# kernels before 6.6 (Debian 12's 6.1) attach, which the QEMU guests do
# not cover for TLS (they have no TLS library); Go's with one toolchain.
# The "go" groups fetch the Go toolchains and build the Go fixtures
# themselves (tests/go/build.sh; cached, see go-fixtures).
test-e2e: $(BUILD)/httptrace-bpf fixtures $(TEST_FIXTURE_BINS) $(GO_TLSPAIR)
	$(Q)BUILD=$(BUILD) $(BOUNDED_LONG) tests/e2e/run.sh
	$(Q)echo "e2e: HTTPS again with --uprobe-links perf"
	$(Q)BUILD=$(BUILD) E2E_TRACER_ARGS="--uprobe-links perf" \
		$(BOUNDED_LONG) tests/e2e/run.sh -k tls
	$(Q)BUILD=$(BUILD) E2E_TRACER_ARGS="--uprobe-links perf" \
		$(BOUNDED_LONG) tests/e2e/run.sh -k go1.24_

# Only fetch Debian's Go toolchains (~/.cache/httptrace-bpf/go; 1.19,
# 1.24, sid's newest, 1.15) and build the Go fixtures with them
# (tests/go/build.sh); GO_TOOLCHAINS_OFFLINE=1: from the cache only.
go-fixtures:
	$(Q)tests/go/toolchains.sh 1.15 >/dev/null
	$(Q)BUILD=$(BUILD) tests/go/build.sh $(BUILD)/go/fixtures >/dev/null

test-lifecycle: $(BUILD)/httptrace-bpf fixtures
	$(Q)BUILD=$(BUILD) $(BOUNDED_UNIT) tests/lifecycle/run.sh

# Recordings kept with the output they gave: any byte that changes fails.
test-replay: $(BUILD)/httptrace-bpf
	$(Q)BUILD=$(BUILD) $(BOUNDED_UNIT) tests/replay/run.sh

# The tracer built with ThreadSanitizer (its own threads: the exec
# watcher, the parallel detach), run system-wide as root while processes
# exec and load a TLS library: any report fails (tests/tsan/run.sh).
TSAN_OBJS := $(patsubst src/%.c,$(BUILD)/tsan/%.o,$(ALL_SRCS))

$(BUILD)/tsan/%.o: src/%.c $(SKELS)
	$(call msg,CC-TSAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=thread $(DEPFLAGS) -c $< -o $@

$(BUILD)/tsan/httptrace-bpf: $(TSAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=thread $^ $(LDFLAGS) $(LDLIBS) \
		$(CAP_LIBS) -o $@

# run_parallel alone, without root
$(BUILD)/tsan/test_run_parallel: tests/tsan/test_run_parallel.c \
		$(BUILD)/tsan/kernel/uprobe_multi.o $(BUILD)/tsan/util/log.o
	$(call msg,CC-TSAN,$@)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=thread $(DEPFLAGS) -Itests/unit \
		$(filter %.c %.o,$^) $(LDFLAGS) $(LDLIBS) -o $@

# the unit tests of threaded pure code (the queued sink, the metrics
# server, the OTLP exporter's thread)
TSAN_UNIT := $(BUILD)/tsan/tests/test_sink \
	     $(BUILD)/tsan/tests/test_sink_prometheus \
	     $(BUILD)/tsan/tests/test_sink_otlp

$(BUILD)/tsan/tests/%: tests/unit/%.c \
		$(patsubst src/%.c,$(BUILD)/tsan/%.o,$(PURE_SRCS))
	$(call msg,CC-TSAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -fsanitize=thread $(DEPFLAGS) -Itests/unit \
		$(filter %.c %.o,$^) -o $@ $(PURE_LIBS)

.PHONY: test-tsan
test-tsan: $(BUILD)/tsan/test_run_parallel $(TSAN_UNIT) \
	   $(BUILD)/tsan/httptrace-bpf
	$(Q)for t in $(BUILD)/tsan/test_run_parallel $(TSAN_UNIT); do \
		TSAN_OPTIONS="halt_on_error=1 io_sync=0" $(BOUNDED_UNIT) $$t || \
		exit 1; done
	$(Q)BUILD=$(BUILD) $(BOUNDED_UNIT) tests/tsan/run.sh

# bench-tools: built, not run, so that a change they depend on shows here
test: bench-tools test-unit test-install test-bpf test-fuzz test-replay \
      test-lifecycle test-e2e test-tsan test-kernels test-kernels-broken

# ---- housekeeping ---------------------------------------------------------

deps:
	$(Q)tools/install-deps.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

# The binary, the systemd unit (tools/systemd/; its paths follow
# PREFIX) and the README it points to. DESTDIR is respected; neither
# target runs systemctl (README.md, "Running as an agent").
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR          ?= $(PREFIX)/share/doc/httptrace-bpf
UNIT            := httptrace-bpf.service

install: $(BUILD)/httptrace-bpf
	install -D -m 0755 $(BUILD)/httptrace-bpf $(DESTDIR)$(PREFIX)/sbin/httptrace-bpf
	install -d $(DESTDIR)$(SYSTEMD_UNITDIR)
	sed -e '/^ExecStart=\|^Documentation=/s|/usr/local/|$(PREFIX)/|' \
		tools/systemd/$(UNIT) > $(DESTDIR)$(SYSTEMD_UNITDIR)/$(UNIT).tmp
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/$(UNIT).tmp
	mv $(DESTDIR)$(SYSTEMD_UNITDIR)/$(UNIT).tmp $(DESTDIR)$(SYSTEMD_UNITDIR)/$(UNIT)
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/httptrace-bpf \
		$(DESTDIR)$(SYSTEMD_UNITDIR)/$(UNIT) $(DESTDIR)$(DOCDIR)/README.md
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# make install and uninstall into a scratch DESTDIR, and the unit
# checked by systemd-analyze verify (tests/install/run.sh); no root
test-install: $(BUILD)/httptrace-bpf
	$(Q)BUILD=$(BUILD) MAKE="$(MAKE)" $(BOUNDED_UNIT) tests/install/run.sh

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) \
	$(TSAN_OBJS:.o=.d) $(BUILD)/tsan/*.d $(BUILD)/tsan/tests/*.d \
	$(BUILD)/tests/*.d $(BUILD)/tests-asan/*.d $(BUILD)/fixtures/*.d \
	$(BUILD)/fuzz/*.d)

include mk/kernels.mk
include mk/bench.mk
