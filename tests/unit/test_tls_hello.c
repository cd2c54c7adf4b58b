// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* TLS record reader: hellos, alerts, gaps, splits, garbage; words. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>

#include "proto/tls/tls_hello.h"
#include "discover/tls_locate.h"
#include "unit.h"
#include "tls_records.h"

static void test_client_hello_sni_alpn(void)
{
	struct tbuf t;
	struct tls_stream s;

	tls_client_hello(&t, "example.com", "h2,http/1.1");
	CHECK(tls_looks_like_hello(t.b, t.n));
	tls_stream_init(&s);
	CHECK(tls_stream_feed(&s, t.b, t.n, 0));
	CHECK(s.hello.client_hello);
	CHECK(!s.hello.server_hello);
	CHECK_STR(s.hello.sni, "example.com");
	CHECK_STR(s.hello.alpn, "h2,http/1.1");
	CHECK_INT(s.records, 1);
	CHECK(s.hs == NULL); /* freed once parsed */
	tls_stream_free(&s);
}

static void test_server_hello_13(void)
{
	struct tbuf t;
	struct tls_stream s;
	char buf[16];

	tls_server_hello(&t, 0x0304, 0x1302, NULL);
	tls_stream_init(&s);
	CHECK(tls_stream_feed(&s, t.b, t.n, 0));
	CHECK(s.hello.server_hello);
	CHECK_INT(s.hello.version, 0x0304);
	CHECK_INT(s.hello.cipher, 0x1302);
	CHECK_STR(tls_version_name(s.hello.version, buf, sizeof(buf)),
		  "TLSv1.3");
	CHECK_STR(tls_cipher_name(s.hello.cipher, buf, sizeof(buf)),
		  "TLS_AES_256_GCM_SHA384");
	tls_stream_free(&s);
}

static void test_server_hello_12_alpn(void)
{
	struct tbuf t;
	struct tls_stream s;
	char buf[16];

	tls_server_hello(&t, 0x0303, 0xc02f, "h2");
	tls_stream_init(&s);
	CHECK(tls_stream_feed(&s, t.b, t.n, 0));
	CHECK_INT(s.hello.version, 0x0303);
	CHECK_STR(s.hello.alpn, "h2");
	CHECK_STR(tls_cipher_name(s.hello.cipher, buf, sizeof(buf)),
		  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	CHECK_STR(tls_cipher_name(0xabcd, buf, sizeof(buf)), "0xabcd");
	tls_stream_free(&s);
}

/* OpenSSL reads the 5-byte record header, then the body: every split
 * must give the same result */
static void test_split_everywhere(void)
{
	struct tbuf t;

	tls_client_hello(&t, "split.test", "http/1.1");
	for (size_t cut = 0; cut <= t.n; cut++) {
		struct tls_stream s;

		tls_stream_init(&s);
		tls_stream_feed(&s, t.b, cut, 0);
		tls_stream_feed(&s, t.b + cut, t.n - cut, 0);
		CHECK(s.hello.client_hello);
		CHECK_STR(s.hello.sni, "split.test");
		tls_stream_free(&s);
	}
	/* byte by byte */
	{
		struct tls_stream s;

		tls_stream_init(&s);
		for (size_t i = 0; i < t.n; i++)
			tls_stream_feed(&s, t.b + i, 1, 0);
		CHECK_STR(s.hello.alpn, "http/1.1");
		tls_stream_free(&s);
	}
}

static void test_records_after_hello_and_alert(void)
{
	struct tbuf h, a, d;
	struct tls_stream s;
	char buf[16];

	tls_server_hello(&h, 0x0303, 0xc030, NULL);
	tls_appdata(&d, 40);
	tls_alert(&a, 2, 48);
	tls_stream_init(&s);
	CHECK(tls_stream_feed(&s, h.b, h.n, 0));
	CHECK(tls_stream_feed(&s, d.b, d.n, 0));
	CHECK(tls_stream_feed(&s, a.b, a.n, 0));
	CHECK_INT(s.records, 3);
	CHECK_INT(s.appdata_records, 1);
	CHECK_INT(s.alert_level, 2);
	CHECK_INT(s.alert_desc, 48);
	CHECK_STR(tls_alert_name(s.alert_desc, buf, sizeof(buf)), "unknown_ca");
	CHECK_STR(tls_alert_name(201, buf, sizeof(buf)), "alert 201");
	CHECK(!s.encrypted_alert);
	tls_stream_free(&s);
}

/* a gap inside a record body is skipped; one across a header loses sync */
static void test_gaps(void)
{
	struct tbuf d, a;
	struct tls_stream s;

	tls_appdata(&d, 100);
	tls_alert(&a, 2, 40);
	tls_stream_init(&s);
	/* header + 10 body bytes captured, 90 not */
	CHECK(tls_stream_feed(&s, d.b, 15, 90));
	CHECK(tls_stream_feed(&s, a.b, a.n, 0));
	CHECK_INT(s.alert_desc, 40);
	/* a gap longer than the record left: dead */
	CHECK(tls_stream_feed(&s, d.b, 15, 200) == false);
	CHECK(s.dead);
	CHECK(tls_stream_feed(&s, a.b, a.n, 0) == false);
	tls_stream_free(&s);
}

static void test_not_tls(void)
{
	struct tls_stream s;
	static const uint8_t get[] = "GET / HTTP/1.1\r\n\r\n";

	CHECK(!tls_looks_like_hello(get, sizeof(get) - 1));
	CHECK(!tls_looks_like_hello((const uint8_t *)"\x16\x03", 2));
	CHECK(!tls_looks_like_hello((const uint8_t *)"\x16\x02\x00", 3));
	tls_stream_init(&s);
	CHECK(!tls_stream_feed(&s, get, sizeof(get) - 1, 0));
	CHECK(s.dead);
	CHECK(!s.hello.client_hello);
	tls_stream_free(&s);
}

/* truncated and lying length fields never read out of bounds (ASan) */
static void test_truncated_hellos(void)
{
	struct tbuf t;

	tls_client_hello(&t, "example.com", "h2");
	for (size_t n = 0; n < t.n; n++) {
		struct tls_hello h = { 0 };
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, t.b + 5, n > 5 ? n - 5 : 0);
		tls_parse_hello(copy, n > 5 ? n - 5 : 0, &h);
		free(copy);
	}
	/* a cut hello whose record continues beyond the capture: what was
	 * captured is still read */
	{
		struct tls_stream s;

		tls_stream_init(&s);
		CHECK(tls_stream_feed(&s, t.b, 9 + 2 + 32 + 1 + 32 + 2 + 6 +
						       2 + 2 + 4 + 20, 0));
		CHECK(!s.hello.client_hello); /* waiting for the rest */
		tls_stream_free(&s);
	}
}

static void test_words(void)
{
	char buf[48];

	CHECK_STR(tls_verify_words(18, buf, sizeof(buf)),
		  "self-signed certificate");
	CHECK_STR(tls_verify_words(999, buf, sizeof(buf)),
		  "certificate verify error 999");
	CHECK_STR(tls_gnutls_words(-12, buf, sizeof(buf)),
		  "a TLS fatal alert has been received");
	CHECK_STR(tls_gnutls_words(-1000, buf, sizeof(buf)),
		  "GnuTLS error -1000");
	CHECK_STR(tls_gnutls_verify_words(0x42, buf, sizeof(buf)),
		  "issuer unknown");
	CHECK_STR(tls_gnutls_verify_words(0x2 | 0x400 | 0x4000, buf,
					  sizeof(buf)),
		  "certificate expired, hostname mismatch");
	CHECK_STR(tls_gnutls_verify_words(0x2, buf, sizeof(buf)),
		  "certificate not trusted");
	CHECK_STR(tls_gnutls_verify_words(0x1, buf, sizeof(buf)),
		  "certificate status 0x1");
	CHECK_STR(tls_gnutls_verify_words(-348, buf, sizeof(buf)),
		  "error verifying the peer's certificate");
	CHECK_STR(tls_version_name(0x0303, buf, sizeof(buf)), "TLSv1.2");
	CHECK_STR(tls_version_name(0x7f17, buf, sizeof(buf)), "0x7f17");
}

/* ---- tls_locate ---------------------------------------------------------- */

static void test_maps_lines(void)
{
	char l1[] = "7f00-7f10 r-xp 00001000 08:01 1234 /usr/lib/x86_64-linux-gnu/libssl.so.3\n";
	char l2[] = "7f00-7f10 r--p 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libssl.so.3\n";
	char l3[] = "7fff-8000 r-xp 00000000 00:00 0 [vdso]\n";
	char l4[] = "7f00-7f10 r-xp 00000000 08:01 99 /tmp/x (deleted)\n";

	CHECK_STR(tls_locate_maps_line_exec_path(l1),
		  "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	CHECK(tls_locate_maps_line_exec_path(l2) == NULL);
	CHECK(tls_locate_maps_line_exec_path(l3) == NULL);
	CHECK(tls_locate_maps_line_exec_path(l4) == NULL);
	CHECK(tls_locate_is_lib_name("/lib/libssl.so.3"));
	CHECK(tls_locate_is_lib_name("libgnutls.so.30"));
	CHECK(!tls_locate_is_lib_name("/lib/libssl3.so")); /* NSS, another API */
	CHECK(!tls_locate_is_lib_name("/lib/libgnutls-openssl.so.27"));
}

/* The test binary itself: defines main and this test function, only
 * imports memcpy (undefined symbols must not count). */
static void test_elf_find_self(void)
{
	const char *names[] = { "main", "tls_locate_elf_find",
				"memcpy", "SSL_write" };
	bool found[4];

	CHECK_INT(tls_locate_elf_find("/proc/self/exe", names, 4, found), 0);
	CHECK(found[0]);
	CHECK(found[1]);
	CHECK(!found[3]);
	CHECK_INT(tls_locate_elf_find("/proc/self/maps", names, 4, found), -ENOEXEC);
	CHECK(tls_locate_elf_find("/nonexistent/file", names, 4, found) < 0);
	CHECK_INT(tls_locate_elf_find_mem((const unsigned char *)"\x7f" "ELF", 4,
				   names, 4, found), -ENOEXEC);
}

/* A synthetic ELF: SSL_write defined, SSL_read imported (undefined),
 * gnutls_x an object rather than a function. */
static size_t mk_elf(unsigned char *img, size_t cap)
{
	static const char strtab[] = "\0SSL_write\0SSL_read\0gnutls_x\0";
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[3] = { { 0 } };
	Elf64_Sym sym[4] = { { 0 } };
	size_t off = sizeof(eh);

	memset(img, 0, cap);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	sym[1].st_name = 1;
	sym[1].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
	sym[1].st_shndx = 12;
	sym[1].st_value = 0x1000;
	sym[2].st_name = 11;
	sym[2].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
	sym[2].st_shndx = SHN_UNDEF;
	sym[3].st_name = 20;
	sym[3].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
	sym[3].st_shndx = 12;
	sym[3].st_value = 0x2000;
	memcpy(img + off, sym, sizeof(sym));
	sh[1].sh_type = SHT_DYNSYM;
	sh[1].sh_offset = off;
	sh[1].sh_size = sizeof(sym);
	sh[1].sh_entsize = sizeof(Elf64_Sym);
	sh[1].sh_link = 2;
	off += sizeof(sym);
	memcpy(img + off, strtab, sizeof(strtab));
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = off;
	sh[2].sh_size = sizeof(strtab);
	off += sizeof(strtab);
	off = (off + 7) & ~(size_t)7;
	eh.e_shoff = off;
	memcpy(img + off, sh, sizeof(sh));
	off += sizeof(sh);
	memcpy(img, &eh, sizeof(eh));
	return off;
}

static void test_elf_find_mem(void)
{
	const char *names[] = { "SSL_write", "SSL_read", "gnutls_x", "SSL" };
	unsigned char img[1024];
	size_t n = mk_elf(img, sizeof(img));
	bool found[4];

	CHECK_INT(tls_locate_elf_find_mem(img, n, names, 4, found), 0);
	CHECK(found[0]);
	CHECK(!found[1]); /* an import */
	CHECK(!found[2]); /* not a function */
	CHECK(!found[3]); /* a prefix is not the name */
	/* every truncation is refused or read safely (ASan) */
	for (size_t cut = 0; cut < n; cut++)
		tls_locate_elf_find_mem(img, cut, names, 4, found);
	/* a lying string table index */
	((Elf64_Sym *)(img + sizeof(Elf64_Ehdr)))[1].st_name = 5000;
	CHECK_INT(tls_locate_elf_find_mem(img, n, names, 4, found), 0);
	CHECK(!found[0]);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_client_hello_sni_alpn);
	RUN(test_server_hello_13);
	RUN(test_server_hello_12_alpn);
	RUN(test_split_everywhere);
	RUN(test_records_after_hello_and_alert);
	RUN(test_gaps);
	RUN(test_not_tls);
	RUN(test_truncated_hellos);
	RUN(test_words);
	RUN(test_maps_lines);
	RUN(test_elf_find_self);
	RUN(test_elf_find_mem);
	return unit_done("tls_hello");
}
