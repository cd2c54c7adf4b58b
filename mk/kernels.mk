# Static builds and the kernel matrix (issue 4). Included at the end of the
# Makefile, which defines BUILD, CC, CFLAGS, OBJS, LDLIBS, Q and msg.
#
#   make static         build/static/httptrace-bpf: one file to copy onto a
#                       host (libbpf, libelf, zlib and glibc linked in), and
#                       static builds of the test fixtures and of
#                       tests/bpf/bpf_test
#   make test-kernels   boot Debian kernels under QEMU (TCG) with an
#                       initramfs holding the static binaries and run every
#                       attach mode against the fixtures; see
#                       tests/kernels/run.sh
#   make test-kernels-broken
#                       the matrix must catch a deliberately broken kprobe
#                       variant (tests/kernels/broken.sh)
#   make kernels-fetch  only download/extract the kernels into the cache
#   make initramfs      only build $(BUILD)/kernels/initramfs.cpio.gz
#
# Variables:
#   KERNEL_CACHE   where the kernels are cached (outside $(BUILD), so
#                  `make clean` keeps them); default
#                  ~/.cache/httptrace-bpf/kernels
#   KERNELS        only these matrix names, e.g. KERNELS=6.1-cloud
#   KERNEL_TIMEOUT seconds one guest may run (default 420)

STATIC_DIR      := $(BUILD)/static
STATIC_LDLIBS   := -Wl,--start-group -lbpf -lelf -lz -lnghttp2 -Wl,--end-group
STATIC_FIXTURES := $(STATIC_DIR)/ht_test_server $(STATIC_DIR)/ht_test_client \
		   $(STATIC_DIR)/ht_check_timeline $(STATIC_DIR)/bpf_test
KERNEL_CACHE    ?= $(HOME)/.cache/httptrace-bpf/kernels
KERNELS         ?=
KERNEL_TIMEOUT  ?= 420
INITRAMFS       := $(BUILD)/kernels/initramfs.cpio.gz
INITRAMFS_FILES := tests/kernels/init tests/kernels/guest.sh \
		   tests/kernels/mkinitramfs.sh

.PHONY: static test-kernels test-kernels-broken kernels-fetch initramfs

static: $(STATIC_DIR)/httptrace-bpf $(STATIC_FIXTURES)

$(STATIC_DIR):
	$(Q)mkdir -p $@

# The objects are the ones of the normal build: only the link differs,
# but for go_locate: Debian ships Zydis only as a shared library, so the
# static tracer finds no RETs in Go code (and probes no Go TLS).
STATIC_OBJS := $(filter-out $(BUILD)/obj/discover/go_locate.o \
			      $(BUILD)/obj/sink/prometheus/sink_prometheus.o \
			      $(BUILD)/obj/sink/prometheus/prom_mhd.o \
			      $(BUILD)/obj/sink/otlp/sink_otlp.o \
			      $(BUILD)/obj/sink/otlp/otlp_config.o \
			      $(BUILD)/obj/sink/otlp/otlp_curl.o, \
			      $(OBJS)) \
	       $(STATIC_DIR)/go_locate_nozydis.o \
	       $(STATIC_DIR)/sink_prometheus_nomhd.o \
	       $(STATIC_DIR)/sink_otlp_nocurl.o \
	       $(STATIC_DIR)/otlp_config_nocurl.o

# nor libcurl's (its TLS and compression archives are not packaged):
# no OTLP exporter
$(STATIC_DIR)/%_nocurl.o: src/sink/otlp/%.c $(wildcard src/sink/otlp/*.h) \
		| $(STATIC_DIR)
	$(call msg,CC-STA,$@)
	$(Q)$(CC) $(CFLAGS) -DOTLP_NO_CURL -c $< -o $@

# nor libmicrohttpd's static archive without GnuTLS's: no /metrics
$(STATIC_DIR)/sink_prometheus_nomhd.o: src/sink/prometheus/sink_prometheus.c \
		$(wildcard src/sink/prometheus/*.h) | $(STATIC_DIR)
	$(call msg,CC-STA,$@)
	$(Q)$(CC) $(CFLAGS) -DPROM_NO_MHD -c $< -o $@

$(STATIC_DIR)/go_locate_nozydis.o: src/discover/go_locate.c \
		src/discover/go_locate.h src/discover/elf_image.h | $(STATIC_DIR)
	$(call msg,CC-STA,$@)
	$(Q)$(CC) $(CFLAGS) -DGO_LOCATE_NO_ZYDIS -c $< -o $@

$(STATIC_DIR)/httptrace-bpf: $(STATIC_OBJS) | $(STATIC_DIR)
	$(call msg,LINK-STA,$@)
	$(Q)$(CC) $(CFLAGS) -static $^ $(LDFLAGS) $(STATIC_LDLIBS) $(CAP_LIBS) -o $@

# the same go_locate without Zydis: the guests run no Go test program,
# but load the Go programs
STATIC_SWAPPED := $(BUILD)/obj/discover/go_locate.o \
		  $(BUILD)/obj/sink/prometheus/sink_prometheus.o \
		  $(BUILD)/obj/sink/prometheus/prom_mhd.o \
		  $(BUILD)/obj/sink/otlp/sink_otlp.o \
		  $(BUILD)/obj/sink/otlp/otlp_config.o \
		  $(BUILD)/obj/sink/otlp/otlp_curl.o
STATIC_BPF_TEST_OBJS := $(STATIC_DIR)/go_locate_nozydis.o \
	$(STATIC_DIR)/sink_prometheus_nomhd.o \
	$(STATIC_DIR)/sink_otlp_nocurl.o $(STATIC_DIR)/otlp_config_nocurl.o \
	$(filter-out $(STATIC_SWAPPED),$(BPF_TEST_OBJS))

$(STATIC_DIR)/bpf_test: tests/bpf/bpf_test.c $(STATIC_BPF_TEST_OBJS) \
			 $(SKELS) | $(STATIC_DIR)
	$(call msg,CC-STA,$@)
	$(Q)$(CC) $(CFLAGS) -static -Itests/unit $< $(STATIC_BPF_TEST_OBJS) \
		-o $@ $(STATIC_LDLIBS)

$(STATIC_DIR)/%: tests/fixtures/%.c | $(STATIC_DIR)
	$(call msg,CC-STA,$@)
	$(Q)$(CC) $(CFLAGS) -static $< -o $@ -lpthread

# The guests' "go" case: Go's crypto/tls traced for real. tlspair
# without cgo is static and runs in the busybox guest; RETs are found
# with Zydis, which only the dynamically linked bpf_test has (it goes
# in with its shared libraries).
$(STATIC_DIR)/tlspair: tests/fixtures/go/tlspair/main.go \
		       tests/fixtures/go/tlspair/go.mod $(GO_CONNWRAP) \
		       | $(STATIC_DIR)
	$(call msg,GO-STA,$@)
	$(Q)export CGO_ENABLED=0 && $(GO_BUILD) -o $(abspath $@) .

initramfs: $(INITRAMFS)

$(INITRAMFS): $(STATIC_DIR)/httptrace-bpf $(STATIC_FIXTURES) \
	      $(BUILD)/fixtures/ht_test_server \
	      $(BUILD)/fixtures/ht_test_client \
	      $(BUILD)/fixtures/ht_tls_pair \
	      $(STATIC_DIR)/tlspair $(BPF_TEST) \
	      $(INITRAMFS_FILES) tests/kernels/cases.txt
	$(call msg,CPIO,$@)
	$(Q)GO_TLSPAIR=$(STATIC_DIR)/tlspair BPF_TEST_DYN=$(BPF_TEST) \
		tests/kernels/mkinitramfs.sh $(STATIC_DIR) $@ $(BUILD)/fixtures

kernels-fetch:
	$(Q)KERNEL_CACHE=$(KERNEL_CACHE) tests/kernels/fetch.sh >/dev/null

test-kernels: $(INITRAMFS)
	$(Q)BUILD=$(BUILD) KERNEL_CACHE=$(KERNEL_CACHE) KERNELS="$(KERNELS)" \
		KERNEL_TIMEOUT=$(KERNEL_TIMEOUT) INITRAMFS=$(INITRAMFS) \
		$(BOUNDED_LONG) tests/kernels/run.sh

test-kernels-broken:
	$(Q)BUILD=$(BUILD) KERNEL_CACHE=$(KERNEL_CACHE) \
		KERNEL_TIMEOUT=$(KERNEL_TIMEOUT) $(BOUNDED_LONG) \
		tests/kernels/broken.sh
