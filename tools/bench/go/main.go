// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

// ht_bench_go: the Go HTTPS load of `make bench` (tools/bench/bench.py),
// client and server in one executable, so that the tracer's uprobes on
// crypto/tls in this one file cover both ends. Standard library only.
//
//	ht_bench_go server -cert C -key K -port-file F [-max-seconds S]
//	ht_bench_go client -url https://127.0.0.1:PORT/ -n N
//	                   [-proto h1|h2] [-conns C] [-streams M]
//
// The server answers every request with a 1 KiB body, over HTTP/1.1 or
// HTTP/2 as ALPN chooses, on 127.0.0.1 only.
//
// The client opens C connections (one http.Transport each) and first sends
// one request on each, outside the timed part: the handshakes, and an
// HTTP/2 connection set up before the streams start (concurrent first
// requests would each dial one). Then M goroutines per connection share N
// requests. With h1 each connection carries one request at a time, so M is
// 1. On stdout, one JSON line: requests timed and made in all (with the
// warm-up), errors, wall and CPU time of the timed part, and per-request
// latency quantiles.
package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const bodySize = 1024

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "ht_bench_go: "+format+"\n", args...)
	os.Exit(1)
}

func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	cert := fs.String("cert", "", "certificate (PEM)")
	key := fs.String("key", "", "private key (PEM)")
	portFile := fs.String("port-file", "", "write the port here once listening")
	maxSecs := fs.Int("max-seconds", 1200, "exit after this long")
	fs.Parse(args)
	if *cert == "" || *key == "" || *portFile == "" {
		fail("server: -cert, -key and -port-file are needed")
	}
	body := make([]byte, bodySize)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("server: %v", err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", strconv.Itoa(bodySize))
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	srv := &http.Server{Handler: h, ErrorLog: nil}
	port := ln.Addr().(*net.TCPAddr).Port
	tmp := *portFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0644); err != nil {
		fail("server: %v", err)
	}
	if err := os.Rename(tmp, *portFile); err != nil {
		fail("server: %v", err)
	}
	time.AfterFunc(time.Duration(*maxSecs)*time.Second, func() {
		fmt.Fprintf(os.Stderr, "ht_bench_go: server: %d s are up, "+
			"exiting\n", *maxSecs)
		os.Exit(0)
	})
	// ServeTLS offers h2 and http/1.1 by ALPN
	err = srv.ServeTLS(ln, *cert, *key)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fail("server: %v", err)
	}
}

type result struct {
	Proto     string  `json:"proto"`
	Conns     int     `json:"conns"`
	Streams   int     `json:"streams"`
	N         int64   `json:"n"`
	OK        int64   `json:"ok"`
	Errors    int64   `json:"errors"`
	Made      int64   `json:"made"`
	ElapsedNs int64   `json:"elapsed_ns"`
	CPUNs     int64   `json:"cpu_ns"`
	RPS       float64 `json:"rps"`
	LatP50Us  float64 `json:"lat_p50_us"`
	LatP99Us  float64 `json:"lat_p99_us"`
	FirstErr  string  `json:"first_error,omitempty"`
}

func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func newTransport(proto string) *http.Transport {
	cfg := &tls.Config{InsecureSkipVerify: true} // loopback, our own cert
	tr := &http.Transport{
		TLSClientConfig:     cfg,
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}
	if proto == "h2" {
		tr.ForceAttemptHTTP2 = true
	} else {
		// a non-nil empty map turns HTTP/2 off
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		tr.MaxConnsPerHost = 1
	}
	return tr
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 || n != bodySize {
		return "", fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
	}
	return resp.Proto, nil
}

func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)) * q)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i].Nanoseconds()) / 1000
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	url := fs.String("url", "", "https://127.0.0.1:PORT/")
	n := fs.Int64("n", 1000, "requests in the timed part")
	proto := fs.String("proto", "h1", "h1 or h2")
	conns := fs.Int("conns", 1, "connections")
	streams := fs.Int("streams", 1, "requests at a time per connection (h2)")
	fs.Parse(args)
	if *url == "" || *n < 1 || *n > 10000000 || *conns < 1 ||
		*conns > 256 || *streams < 1 || *streams > 256 {
		fail("client: -url, -n (1..10000000), -conns (1..256), " +
			"-streams (1..256)")
	}
	if *proto != "h1" && *proto != "h2" {
		fail("client: -proto is h1 or h2")
	}
	if *proto == "h1" && *streams != 1 {
		fail("client: HTTP/1.1 has one request at a time per connection")
	}
	want := "HTTP/1.1"
	if *proto == "h2" {
		want = "HTTP/2.0"
	}
	clients := make([]*http.Client, *conns)
	for i := range clients {
		clients[i] = &http.Client{Transport: newTransport(*proto),
			Timeout: 30 * time.Second}
		got, err := get(clients[i], *url)
		if err != nil {
			fail("client: first request: %v", err)
		}
		if got != want {
			fail("client: the server spoke %s, not %s", got, want)
		}
	}

	var next, ok, errs int64
	var firstErr atomic.Value
	workers := *conns * *streams
	lats := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	c0 := cpuNs()
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := clients[w%*conns]
			l := make([]time.Duration, 0, *n/int64(workers)+1)
			for atomic.AddInt64(&next, 1) <= *n {
				s := time.Now()
				if _, err := get(c, *url); err != nil {
					atomic.AddInt64(&errs, 1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				l = append(l, time.Since(s))
				atomic.AddInt64(&ok, 1)
			}
			lats[w] = l
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(t0)
	cpu := cpuNs() - c0
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := result{Proto: *proto, Conns: *conns, Streams: *streams, N: *n,
		OK: ok, Errors: errs, Made: *n + int64(*conns),
		ElapsedNs: elapsed.Nanoseconds(), CPUNs: cpu,
		RPS:      float64(*n) / elapsed.Seconds(),
		LatP50Us: quantile(all, 0.5), LatP99Us: quantile(all, 0.99)}
	if e, _ := firstErr.Load().(string); e != "" {
		r.FirstErr = e
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if errs != 0 {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: ht_bench_go server|client ...")
	}
	switch os.Args[1] {
	case "server":
		server(os.Args[2:])
	case "client":
		client(os.Args[2:])
	default:
		fail("unknown command %q: server or client", os.Args[1])
	}
}
