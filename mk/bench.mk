# Benchmarks (issue 5). Included at the end of the Makefile, which defines
# BUILD, CC, CLANG, BPFTOOL, CFLAGS, BPF_CFLAGS, DEPFLAGS, LDLIBS,
# PURE_OBJS, Q and msg.
#
#   make bench          build everything, run every benchmark (as root,
#                       about 15 minutes; the HTTP/2 ones need nghttpd
#                       and h2load, the Go ones the host's go), write
#                       docs/BENCH.md and docs/bench-raw.json
#   make bench-tools    only build the bench programs
#   make bench-replay   only the daemon throughput (no root, no kernel)
#
# Variables:
#   BENCH_ARGS     extra arguments to tools/bench/bench.py, e.g.
#                  BENCH_ARGS="--rounds 3 --quick" or "--only overhead"
#                  or "--only h2,h2replay" (HTTP/2 only) or "--only go"
#                  (Go HTTPS only)
#   BENCH_OUT      the results file (default docs/BENCH.md; the raw
#                  numbers go next to it as bench-raw.json)

BENCH_DIR   := $(BUILD)/tools/bench
BENCH_OUT   ?= docs/BENCH.md
BENCH_ARGS  ?=
BENCH_BINS  := $(BENCH_DIR)/ht_bench_load $(BENCH_DIR)/ht_bench_replay \
	       $(BENCH_DIR)/ht_bench_floor $(BENCH_DIR)/ht_bench_go
# The Go load (tools/bench/go/): standard library only, the host's Go,
# never the network; its caches under the build directory
BENCH_GO_ENV := GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
	GOCACHE=$(HT_GOCACHE) \
	GOPATH=$(abspath $(BENCH_DIR))/go-path

.PHONY: bench bench-tools bench-replay

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/floor.bpf.o: tools/bench/floor.bpf.c vmlinux.h | $(BENCH_DIR)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -MF $(@:.o=.d) -MT $@ -c $< -o $@

$(BENCH_DIR)/floor.skel.h: $(BENCH_DIR)/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_DIR)/ht_bench_floor: tools/bench/floor.c src/discover/libc_locate.c \
		$(BENCH_DIR)/floor.skel.h | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -I$(BENCH_DIR) tools/bench/floor.c \
		src/discover/libc_locate.c $(LDFLAGS) $(LDLIBS) -o $@

$(BENCH_DIR)/ht_bench_load: tools/bench/loadgen.c | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< -o $@ -lssl -lcrypto -lpthread

# The same objects, built with the same flags, as the daemon's.
$(BENCH_DIR)/ht_bench_replay: tools/bench/replay.c $(PURE_OBJS) | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< $(PURE_OBJS) -o $@ $(PURE_LIBS)

$(BENCH_DIR)/ht_bench_go: $(wildcard tools/bench/go/*.go) \
		tools/bench/go/go.mod | $(BENCH_DIR)
	$(call msg,GO,$@)
	$(Q)cd tools/bench/go && $(BENCH_GO_ENV) go build -o $(abspath $@) .

bench-tools: $(BENCH_BINS)

bench-replay: $(BENCH_DIR)/ht_bench_replay
	$(Q)taskset -c 0 $< && taskset -c 0 $< --no-output

bench: $(BUILD)/httptrace-bpf fixtures bench-tools
	$(Q)python3 tools/bench/bench.py --build $(BUILD) --out $(BENCH_OUT) \
		$(BENCH_ARGS)

-include $(wildcard $(BENCH_DIR)/*.d)
