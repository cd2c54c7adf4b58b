/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ht_tls_peek_client: one HTTPS GET through OpenSSL that peeks at the
 * response before reading it, for the end-to-end test that peeked bytes
 * are counted once (the tracer leaves SSL_peek alone; the read that
 * consumes the bytes reports them).
 *
 *   ht_tls_peek_client HOST PORT PATH CAFILE
 *
 * SSL_peek()s the first bytes of the response (twice), then SSL_read()s
 * until the header block and Content-Length bytes of body are in. Prints
 * "STATUS BYTES_READ" (bytes through SSL_read only) and exits 0 on a 200.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static void die(const char *what)
{
	fprintf(stderr, "ht_tls_peek_client: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* Header block complete, and the body per Content-Length too? */
static int response_done(const char *buf, size_t have, int *status)
{
	const char *end = memmem(buf, have, "\r\n\r\n", 4);
	const char *cl;
	long len = 0;

	if (!end)
		return 0;
	if (sscanf(buf, "HTTP/1.%*d %d", status) != 1)
		die("no status line");
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl && cl < end)
		len = strtol(cl + 17, NULL, 10);
	return (size_t)(end + 4 - buf) + (size_t)len <= have;
}

int main(int argc, char **argv)
{
	char req[512], peek[16], buf[65536];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	size_t have = 0;
	int fd, status = 0, n;
	SSL_CTX *ctx;
	SSL *ssl;

	if (argc != 5) {
		fprintf(stderr, "usage: ht_tls_peek_client HOST PORT PATH CAFILE\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr) != 1)
		die("inet_pton");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_load_verify_locations(ctx, argv[4], NULL))
		die("CA file");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, argv[1]);
	if (SSL_connect(ssl) != 1)
		die("SSL_connect");
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n",
		 argv[3], argv[1], argv[2]);
	if (SSL_write(ssl, req, (int)strlen(req)) != (int)strlen(req))
		die("SSL_write");
	for (int i = 0; i < 2; i++)
		if (SSL_peek(ssl, peek, sizeof(peek)) <= 0)
			die("SSL_peek");
	while (!response_done(buf, have, &status)) {
		if (have >= sizeof(buf) - 1)
			die("response too large");
		n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
		if (n <= 0)
			die("SSL_read");
		have += (size_t)n;
		buf[have] = 0;
	}
	printf("%d %zu\n", status, have);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	return status == 200 ? 0 : 1;
}
