// 4.1 http-handler-middleware, Go twin of 4.1-http-handler-middleware.c: a
// net/http server whose logging middleware and handler both write one map
// shared by every connection; net/http serves each connection on its own
// goroutine. Concurrent clients on 127.0.0.1.
//
// Shape:   one server on 127.0.0.1 (ephemeral port); 10 rounds of 4 clients,
//          each on its own keep-alive connection, sending 20 GET /item/N;
//          every socket times out after 2 s.
// Expect:  fatal error: concurrent map writes (exit status 2)
// Fix:     a sync.Mutex shared by the middleware and the handler.

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

func main() {
	twinMain("4.1-http-handler-middleware", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		var mu sync.Mutex
		seen := map[string]int64{}
		remember := func(key string, v int64) {
			if fixed {
				mu.Lock()
				defer mu.Unlock()
			}
			seen[key] = v
		}
		logging := func(next http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				remember("mw "+r.URL.Path, time.Now().UnixNano())
				next(w, r)
			}
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/", logging(func(w http.ResponseWriter, r *http.Request) {
			remember("h "+r.URL.Path, int64(len(r.URL.Path)))
			fmt.Fprint(w, "ok")
		}))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen on 127.0.0.1:", err)
			os.Exit(70)
		}
		srv := &http.Server{Handler: mux, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
		go srv.Serve(ln)
		client := func(id int) func() {
			return func() { // its own Transport: its own connection, kept alive
				tr := &http.Transport{MaxIdleConnsPerHost: 1}
				c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
				defer tr.CloseIdleConnections()
				for i := 0; i < 20; i++ {
					resp, err := c.Get(fmt.Sprintf("http://%s/item/%d", ln.Addr(), (id*31+i)%16))
					if err != nil {
						fmt.Fprintf(os.Stderr, "client %d: request %d failed: %v\n", id, i, err)
						os.Exit(70)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if string(body) != "ok" {
						fmt.Fprintf(os.Stderr, "client %d: unexpected response\n", id)
						os.Exit(70)
					}
				}
			}
		}
		twinRun(10, client(1), client(2), client(3), client(4)) // fresh connections each round
		srv.Close()
	})
}
