/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finding Go's crypto/tls in a Go executable, for uprobes: the Go version
 * (from .go.buildinfo) and, for each function probed, the file offset of
 * its entry and of every RET instruction in it. Go code gets no
 * uretprobes (the runtime moves goroutine stacks, and a return address
 * rewritten by the kernel crashes it), so a return is caught by a plain
 * uprobe on each RET, found by decoding the function's machine code
 * between its bounds (Zydis).
 *
 * Functions are found through .symtab when there is one, else through
 * .gopclntab (Go's own function table, kept in stripped binaries), so
 * `go build -ldflags=-s -w` and CGO_ENABLED=0 builds work alike.
 *
 * Pure: reads files, no BPF.
 */
#ifndef HTTPTRACE_GO_LOCATE_H
#define HTTPTRACE_GO_LOCATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The functions probed, one list for both sides (bpf/go_tls.bpf.h takes
 * the id as the attach cookie or program).
 *
 * X(id, symbol)
 *   id      GO_FN_<id>
 *   symbol  the function's name in Go's symbol table
 *
 * Register ABI (Go 1.17+, amd64): the receiver *tls.Conn in RAX, a
 * []byte argument in RBX (pointer), RCX (length); (int, error) results
 * in RAX, and RBX/RCX (the error's type and data words; type 0: nil);
 * the current goroutine (g) in R14 throughout.
 */
#define GO_FUNCS(X)                                                       \
	/* func (c *Conn) Write(b []byte) (int, error) */                 \
	X(TLS_WRITE, "crypto/tls.(*Conn).Write")                          \
	/* func (c *Conn) Read(b []byte) (int, error) */                  \
	X(TLS_READ, "crypto/tls.(*Conn).Read")                            \
	/* func (c *Conn) handshakeContext(ctx) (ret error): what         \
	 * Handshake and HandshakeContext run, once per connection */     \
	X(TLS_HANDSHAKE, "crypto/tls.(*Conn).handshakeContext")

#define GO_FN_ENUM_(id, symbol) GO_FN_##id,
enum go_func_id {
	GO_FUNCS(GO_FN_ENUM_)
	GO_FN_COUNT,
};

/* RETs kept per function; a function with more is not probed (its
 * returns could not all be caught). */
#define GO_MAX_RETS 64

struct go_func_loc {
	bool found;
	uint64_t entry;   /* file offset of the first instruction */
	uint64_t size;    /* bytes of machine code, from the table */
	int n_rets;
	uint64_t rets[GO_MAX_RETS]; /* file offsets of each RET */
	const char *why;  /* when !found: why, in words (static) */
};

/*
 * A net.Conn type of the program and how it leads to the socket
 * (include/httptrace_go_tls.h): *net.TCPConn, or a struct of the
 * program's own wrapping one, found among the program's static itabs
 * for net.Conn (moduledata.itablinks).
 */
#define GO_MAX_CONN_TYPES 64

struct go_conn_type {
	uint32_t hash;  /* the type's hash, as in its itab */
	uint8_t kind;   /* enum ht_go_conn_kind */
	uint16_t off;
	char name[64];  /* "*main.countedConn", for -v */
};

/* The oldest Go whose register ABI the probes read */
#define GO_MIN_MAJOR 1
#define GO_MIN_MINOR 17

struct go_binary {
	char version[32];  /* "go1.22.3", as the toolchain wrote it */
	int major, minor;  /* 1, 22; 0, 0 when the version was not found */
	bool has_symtab;   /* functions found through .symtab, else
			    * through .gopclntab */
	struct go_func_loc funcs[GO_FN_COUNT];
	const char *why;   /* when go_locate fails: why, in words (static) */
	int n_conn_types;  /* none: conn_types_why says why */
	int conn_types_over; /* more than GO_MAX_CONN_TYPES: not kept */
	struct go_conn_type conn_types[GO_MAX_CONN_TYPES];
	const char *conn_types_why;
};

/* The minor version given to a "devel ..." toolchain: newer than any */
#define GO_DEVEL_MINOR 999

/*
 * Looks at the ELF file at path. Returns:
 *   0              a Go program of Go 1.17 or later; out->funcs[i].found
 *                  for each function it has (none: it does not use
 *                  crypto/tls)
 *   -ENOENT        not a Go program (no Go build information)
 *   -EPROTONOSUPPORT  a Go program older than Go 1.17 (out->version set)
 *   -ENOEXEC       not a 64-bit little-endian x86-64 ELF, or malformed
 *   -EBADMSG       a Go program whose function table cannot be read
 *   -errno         the file cannot be read
 * Never crashes or reads out of bounds on any file content.
 */
int go_locate(const char *path, struct go_binary *out);

/* Same, on a file image in memory (tests and fuzzing). */
int go_locate_mem(const unsigned char *img, size_t size,
		  struct go_binary *out);

/*
 * "go1.21.3", "go1.21rc2", "go1.22.0 X:boringcrypto" -> 1, 21;
 * "devel ..." -> 1, GO_DEVEL_MINOR. Returns 0 or -EINVAL (major and
 * minor 0).
 */
int go_locate_parse_version(const char *v, int *major, int *minor);

/*
 * The disassembler that finds RETs, as "Zydis 4.0.0", or NULL when this
 * build has none (built without libzydis-dev, or the static build): then
 * every function is "not found", with why saying so.
 */
const char *go_locate_disassembler(void);

/* The symbol of a function id, for messages. */
const char *go_locate_func_name(enum go_func_id id);

#endif /* HTTPTRACE_GO_LOCATE_H */
