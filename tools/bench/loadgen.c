/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ht_bench_load: fixed client workloads for `make bench` (tools/bench/).
 *
 *   ht_bench_load keepalive HOST:PORT N    one connection, N sequential GETs
 *   ht_bench_load newconn HOST:PORT N      N times: connect, GET, close
 *   ht_bench_load tls HOST:PORT N          OpenSSL client, one TLS
 *                                          connection, N sequential GETs
 *   ht_bench_load nonhttp N                N rounds of non-HTTP I/O: a 4 KiB
 *                                          file write + read back, a UDP
 *                                          datagram to itself, a 64-byte
 *                                          binary echo over TCP (helper
 *                                          thread), a pipe round trip
 *   ht_bench_load rate HOST:PORT CONNS RATE SECONDS
 *                                          paced keep-alive load: CONNS
 *                                          connections, RATE requests/s in
 *                                          total, for SECONDS; waits for a
 *                                          line on stdin before starting
 *   ht_bench_load threads HOST:PORT THREADS SECONDS
 *                                          THREADS threads, each with its
 *                                          own keep-alive connection,
 *                                          sequential GETs as fast as the
 *                                          server answers, for SECONDS:
 *                                          the tracer's reader competes
 *                                          with them for the CPUs
 *   ht_bench_load tls-server PORT CERT KEY TLS HTTP/1.1 keep-alive server
 *                                          on 127.0.0.1 (thread per
 *                                          connection), "hello\n" to all
 *
 * Every client mode prints one JSON object on stdout, e.g.
 *   {"mode":"keepalive","n":20000,"ok":20000,"elapsed_ns":123456789}
 * elapsed_ns covers the request loop only (for tls: after the handshake).
 * Exit status 0 when every request got a complete 200 response.
 * Loopback only: HOST must be an IPv4 literal.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CONNS 256
#define RBUF 16384

static const char REQ[] =
	"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ht_bench_load\r\n"
	"Accept: */*\r\n\r\n";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "ht_bench_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void parse_hostport(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host)) {
		fprintf(stderr, "ht_bench_load: bad HOST:PORT '%s'\n", s);
		exit(2);
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "ht_bench_load: HOST must be IPv4: '%s'\n", host);
		exit(2);
	}
}

static int tcp_connect(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		die("connect");
	return fd;
}

/*
 * Incremental response framing: headers end at CRLFCRLF, then
 * Content-Length bytes (chunked and close-delimited are not needed: both
 * servers send Content-Length). Returns bytes consumed of a complete
 * response in buf[0..len), 0 when more is needed, -1 on garbage.
 */
static long response_complete(const char *buf, size_t len, int *status)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	long clen = 0;

	if (!end)
		return 0;
	if (len < 12 || strncmp(buf, "HTTP/1.", 7))
		return -1;
	*status = atoi(buf + 9);
	for (const char *p = buf; p < end; p++) {
		if ((p == buf || p[-1] == '\n') &&
		    !strncasecmp(p, "Content-Length:", 15)) {
			clen = atol(p + 15);
			break;
		}
	}
	if ((size_t)(end + 4 - buf) + (size_t)clen > len)
		return 0;
	return (long)(end + 4 - buf) + clen;
}

/* One request/response on a blocking plaintext socket. */
static bool http_roundtrip(int fd)
{
	char buf[RBUF];
	size_t have = 0;
	int status = 0;

	if (write(fd, REQ, sizeof(REQ) - 1) != (ssize_t)sizeof(REQ) - 1)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		long done;

		if (n <= 0)
			return false;
		have += (size_t)n;
		done = response_complete(buf, have, &status);
		if (done < 0)
			return false;
		if (done > 0)
			return status == 200 && (size_t)done == have;
		if (have == sizeof(buf))
			return false;
	}
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu0;

/* elapsed: wall time of the request loop; cpu_ns: this process's CPU time
 * (user + system, all threads) over the same loop, which a busy machine
 * inflates much less than the wall time */
static void report(const char *mode, long n, long ok, uint64_t elapsed)
{
	printf("{\"mode\":\"%s\",\"n\":%ld,\"ok\":%ld,\"elapsed_ns\":%llu,"
	       "\"cpu_ns\":%llu}\n", mode, n, ok, (unsigned long long)elapsed,
	       (unsigned long long)(cpu_ns() - cpu0));
	fflush(stdout);
}

static int run_keepalive(const char *hp, long n)
{
	struct sockaddr_in sa;
	uint64_t t0;
	long ok = 0;
	int fd;

	parse_hostport(hp, &sa);
	fd = tcp_connect(&sa);
	cpu0 = cpu_ns();
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (http_roundtrip(fd))
			ok++;
		else
			break;
	report("keepalive", n, ok, now_ns() - t0);
	close(fd);
	return ok == n ? 0 : 1;
}

static int run_newconn(const char *hp, long n)
{
	struct sockaddr_in sa;
	uint64_t t0;
	long ok = 0;

	parse_hostport(hp, &sa);
	cpu0 = cpu_ns();
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = tcp_connect(&sa);
		bool good = http_roundtrip(fd);

		close(fd);
		if (!good)
			break;
		ok++;
	}
	report("newconn", n, ok, now_ns() - t0);
	return ok == n ? 0 : 1;
}

/* ---- TLS client and server -------------------------------------------- */

static void ssl_die(const char *what)
{
	fprintf(stderr, "ht_bench_load: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static int run_tls(const char *hp, long n)
{
	struct sockaddr_in sa;
	SSL_CTX *ctx;
	SSL *ssl;
	uint64_t t0;
	long ok = 0;
	int fd;

	parse_hostport(hp, &sa);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		ssl_die("SSL_CTX_new");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* self-signed, loopback */
	fd = tcp_connect(&sa);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		ssl_die("SSL_connect");
	cpu0 = cpu_ns();
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		char buf[RBUF];
		size_t have = 0;
		int status = 0;
		long done = 0;

		if (SSL_write(ssl, REQ, sizeof(REQ) - 1) != (int)sizeof(REQ) - 1)
			break;
		while (!done) {
			int r = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));

			if (r <= 0) {
				done = -1;
				break;
			}
			have += (size_t)r;
			done = response_complete(buf, have, &status);
		}
		if (done < 0 || status != 200)
			break;
		ok++;
	}
	report("tls", n, ok, now_ns() - t0);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	return ok == n ? 0 : 1;
}

struct tls_conn {
	SSL_CTX *ctx;
	int fd;
};

static void *tls_serve(void *arg)
{
	struct tls_conn *c = arg;
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain"
				   "\r\nContent-Length: 6\r\n\r\nhello\n";
	SSL *ssl = SSL_new(c->ctx);
	char buf[RBUF];
	size_t have = 0;

	SSL_set_fd(ssl, c->fd);
	if (SSL_accept(ssl) != 1)
		goto out;
	for (;;) {
		char *end;
		int r = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have - 1));

		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = 0;
		/* requests carry no body: each ends at CRLFCRLF */
		while ((end = memmem(buf, have, "\r\n\r\n", 4))) {
			size_t used = (size_t)(end + 4 - buf);

			if (SSL_write(ssl, resp, sizeof(resp) - 1) <= 0)
				goto out;
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		if (have >= sizeof(buf) - 1)
			break;
	}
out:
	SSL_free(ssl);
	close(c->fd);
	free(c);
	return NULL;
}

static __attribute__((noreturn)) int run_tls_server(int port, const char *cert, const char *key)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int lfd, one = 1;

	signal(SIGPIPE, SIG_IGN);
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		ssl_die("cannot load the certificate or key");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 128))
		die("bind/listen");
	fprintf(stderr, "ht_bench_load: tls-server listening on 127.0.0.1:%d\n",
		port);
	for (;;) {
		struct tls_conn *c;
		pthread_t th;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = malloc(sizeof(*c));
		if (!c)
			die("malloc");
		c->ctx = ctx;
		c->fd = fd;
		if (pthread_create(&th, NULL, tls_serve, c)) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(th);
	}
}

/* ---- non-HTTP I/O --------------------------------------------------------- */

static void *echo_thread(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL), one = 1;
	char buf[4096];

	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0 || write(fd, buf, (size_t)n) != n)
			break;
	}
	close(fd);
	return NULL;
}

static void full_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			die("read");
		got += (size_t)n;
	}
}

static int run_nonhttp(long n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);
	char path[] = "/tmp/ht_bench_nonhttp.XXXXXX";
	unsigned char block[4096], back[4096], msg[64], dgram[256];
	int ffd, ufd, lfd, tfd, pfd[2], one = 1;
	pthread_t th;
	uint64_t t0;
	long ok = 0;

	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (unsigned char)(i * 31 + 7);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(0x80 | i); /* binary, not HTTP */
	ffd = mkstemp(path);
	if (ffd < 0)
		die("mkstemp");
	unlink(path);

	/* UDP socket talking to itself */
	ufd = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ufd < 0 || bind(ufd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(ufd, (struct sockaddr *)&sa, &slen))
		die("udp");

	/* TCP echo of a binary protocol through a helper thread */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = 0;
	slen = sizeof(sa);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sa, &slen))
		die("tcp listen");
	if (pthread_create(&th, NULL, echo_thread, &lfd))
		die("pthread_create");
	tfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tfd < 0 || connect(tfd, (struct sockaddr *)&sa, sizeof(sa)))
		die("tcp connect");
	if (pipe(pfd))
		die("pipe");
	slen = sizeof(sa);
	getsockname(ufd, (struct sockaddr *)&sa, &slen);

	cpu0 = cpu_ns();
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		char c = 'x';

		/* file: write 4 KiB, read it back */
		if (lseek(ffd, 0, SEEK_SET) < 0 ||
		    write(ffd, block, sizeof(block)) != (ssize_t)sizeof(block) ||
		    lseek(ffd, 0, SEEK_SET) < 0)
			die("file write");
		full_read(ffd, back, sizeof(back));
		/* UDP datagram to itself */
		if (sendto(ufd, msg, sizeof(msg), 0, (struct sockaddr *)&sa,
			   sizeof(sa)) != (ssize_t)sizeof(msg) ||
		    recvfrom(ufd, dgram, sizeof(dgram), 0, NULL, NULL) !=
			    (ssize_t)sizeof(msg))
			die("udp");
		/* TCP binary echo */
		msg[0] = (unsigned char)i;
		if (write(tfd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			die("tcp write");
		full_read(tfd, dgram, sizeof(msg));
		/* pipe round trip */
		if (write(pfd[1], &c, 1) != 1 || read(pfd[0], &c, 1) != 1)
			die("pipe");
		if (memcmp(back, block, sizeof(block)) == 0)
			ok++;
	}
	report("nonhttp", n, ok, now_ns() - t0);
	close(tfd);
	pthread_join(th, NULL);
	close(lfd);
	close(ufd);
	close(ffd);
	close(pfd[0]);
	close(pfd[1]);
	return ok == n ? 0 : 1;
}

/* ---- unpaced load from many threads -------------------------------------- */

struct tload {
	struct sockaddr_in sa;
	uint64_t end;
	long ok, failed;
	pthread_t th;
};

static void *tload_run(void *arg)
{
	struct tload *t = arg;
	int fd = tcp_connect(&t->sa);

	while (now_ns() < t->end) {
		if (!http_roundtrip(fd)) {
			t->failed++;
			break;
		}
		t->ok++;
	}
	close(fd);
	return NULL;
}

static int run_threads(const char *hp, int nthreads, double seconds)
{
	static struct tload loads[MAX_CONNS];
	struct sockaddr_in sa;
	uint64_t t0, elapsed;
	long ok = 0, failed = 0;

	if (nthreads < 1 || nthreads > MAX_CONNS || seconds <= 0 ||
	    seconds > 3600) {
		fprintf(stderr, "ht_bench_load: threads: bad arguments\n");
		return 2;
	}
	parse_hostport(hp, &sa);
	cpu0 = cpu_ns();
	t0 = now_ns();
	for (int i = 0; i < nthreads; i++) {
		loads[i].sa = sa;
		loads[i].end = t0 + (uint64_t)(seconds * 1e9);
		if (pthread_create(&loads[i].th, NULL, tload_run, &loads[i]))
			die("pthread_create");
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(loads[i].th, NULL);
		ok += loads[i].ok;
		failed += loads[i].failed;
	}
	elapsed = now_ns() - t0;
	printf("{\"mode\":\"threads\",\"threads\":%d,\"ok\":%ld,"
	       "\"failed\":%ld,\"elapsed_ns\":%llu,\"rate\":%.1f}\n",
	       nthreads, ok, failed, (unsigned long long)elapsed,
	       (double)ok * 1e9 / (double)elapsed);
	return failed ? 1 : 0;
}

/* ---- paced load ------------------------------------------------------------ */

struct lconn {
	int fd;
	bool busy;
	size_t have;
	char buf[4096];
};

static int run_rate(const char *hp, int nconns, double rate, double seconds)
{
	static struct lconn conns[MAX_CONNS];
	struct epoll_event evs[MAX_CONNS];
	struct sockaddr_in sa;
	uint64_t t0, end, sent = 0, ok = 0, errors = 0, late = 0;
	double interval_ns = 1e9 / rate;
	char line[16];
	int ep;

	if (nconns < 1 || nconns > MAX_CONNS || rate <= 0 || seconds <= 0) {
		fprintf(stderr, "ht_bench_load: rate: bad arguments\n");
		return 2;
	}
	parse_hostport(hp, &sa);
	/* ready: the tracer may be started against our pid now */
	fprintf(stderr, "ht_bench_load: ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	ep = epoll_create1(0);
	for (int i = 0; i < nconns; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		conns[i].fd = tcp_connect(&sa);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev))
			die("epoll_ctl");
	}
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t now = now_ns(), due;
		int timeout, n, idle = -1;

		if (now >= end)
			break;
		/* start every request that is due on an idle connection */
		due = (uint64_t)((double)sent * interval_ns);
		while (now - t0 >= due) {
			idle = -1;
			for (int i = 0; i < nconns; i++)
				if (!conns[i].busy) {
					idle = i;
					break;
				}
			if (idle < 0) {
				late++; /* all busy: the server lags */
				break;
			}
			if (write(conns[idle].fd, REQ, sizeof(REQ) - 1) !=
			    (ssize_t)sizeof(REQ) - 1) {
				errors++;
				goto done;
			}
			conns[idle].busy = true;
			conns[idle].have = 0;
			sent++;
			due = (uint64_t)((double)sent * interval_ns);
		}
		now = now_ns();
		if (idle < 0 && now - t0 >= due)
			timeout = 1; /* wait for a connection to free up */
		else
			/* round up: pace in bursts of at most 1 ms rather
			 * than spin a core the server and tracer need */
			timeout = (int)((t0 + due - now + 999999) / 1000000);
		n = epoll_wait(ep, evs, MAX_CONNS, timeout);
		for (int k = 0; k < n; k++) {
			struct lconn *c = &conns[evs[k].data.u32];
			ssize_t r = read(c->fd, c->buf + c->have,
					 sizeof(c->buf) - c->have);
			int status = 0;
			long done;

			if (r <= 0) {
				errors++;
				goto done;
			}
			c->have += (size_t)r;
			done = response_complete(c->buf, c->have, &status);
			if (done < 0 || (done == 0 && c->have == sizeof(c->buf))) {
				errors++;
				goto done;
			}
			if (done > 0) {
				c->busy = false;
				c->have = 0;
				if (status == 200)
					ok++;
				else
					errors++;
			}
		}
	}
	/* let the requests in flight finish */
	for (uint64_t stop = now_ns() + 2000000000ULL; now_ns() < stop;) {
		int busy = 0, n;

		for (int i = 0; i < nconns; i++)
			busy += conns[i].busy;
		if (!busy)
			break;
		n = epoll_wait(ep, evs, MAX_CONNS, 100);
		for (int k = 0; k < n; k++) {
			struct lconn *c = &conns[evs[k].data.u32];
			ssize_t r = read(c->fd, c->buf + c->have,
					 sizeof(c->buf) - c->have);
			int status = 0;
			long done;

			if (r <= 0) {
				errors++;
				goto done;
			}
			c->have += (size_t)r;
			done = response_complete(c->buf, c->have, &status);
			if (done > 0) {
				c->busy = false;
				ok += status == 200;
			}
		}
	}
done:
	{
		uint64_t elapsed = now_ns() - t0;

		for (int i = 0; i < nconns; i++)
			close(conns[i].fd);
		printf("{\"mode\":\"rate\",\"conns\":%d,\"target_rate\":%.0f,"
		       "\"sent\":%llu,\"ok\":%llu,\"errors\":%llu,\"late\":%llu,"
		       "\"elapsed_ns\":%llu,\"achieved_rate\":%.1f}\n",
		       nconns, rate, (unsigned long long)sent,
		       (unsigned long long)ok, (unsigned long long)errors,
		       (unsigned long long)late, (unsigned long long)elapsed,
		       (double)ok * 1e9 / (double)elapsed);
	}
	return errors ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ht_bench_load keepalive|newconn|tls HOST:PORT N\n"
		"       ht_bench_load nonhttp N\n"
		"       ht_bench_load rate HOST:PORT CONNS RATE SECONDS\n"
		"       ht_bench_load threads HOST:PORT THREADS SECONDS\n"
		"       ht_bench_load tls-server PORT CERT KEY\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "keepalive") && argc == 4)
		return run_keepalive(argv[2], atol(argv[3]));
	if (!strcmp(argv[1], "newconn") && argc == 4)
		return run_newconn(argv[2], atol(argv[3]));
	if (!strcmp(argv[1], "tls") && argc == 4)
		return run_tls(argv[2], atol(argv[3]));
	if (!strcmp(argv[1], "nonhttp") && argc == 3)
		return run_nonhttp(atol(argv[2]));
	if (!strcmp(argv[1], "rate") && argc == 6)
		return run_rate(argv[2], atoi(argv[3]), atof(argv[4]),
				atof(argv[5]));
	if (!strcmp(argv[1], "threads") && argc == 5)
		return run_threads(argv[2], atoi(argv[3]), atof(argv[4]));
	if (!strcmp(argv[1], "tls-server") && argc == 5)
		return run_tls_server(atoi(argv[2]), argv[3], argv[4]);
	usage();
	return 2;
}
