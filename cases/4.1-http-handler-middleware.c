/*
 * 4.1 http-handler-middleware: an HTTP/1.1 server with one thread per
 * connection; a middleware and the handler behind it both write one map
 * shared by all connections. Concurrent clients on 127.0.0.1.
 *
 * Go:      seen := map[string]int64{}
 *          logging := func(next http.HandlerFunc) http.HandlerFunc {
 *                  return func(w http.ResponseWriter, r *http.Request) {
 *                          seen["mw "+r.URL.Path] = time.Now().UnixNano(); next(w, r) } }
 *          http.HandleFunc("/", logging(func(w http.ResponseWriter, r *http.Request) {
 *                  seen["h "+r.URL.Path] = int64(len(r.URL.Path)); fmt.Fprint(w, "ok") }))
 * Expect:  fatal error: concurrent map writes
 * Fix:     a sync.Mutex shared by the middleware and the handler.
 *
 * net/http serves every connection on its own goroutine, so code that
 * looks sequential (middleware, then handler) runs once per connection at
 * the same time. Real Go, article's program: 40/50 "concurrent map writes".
 * The server listens on 127.0.0.1 only, an ephemeral port; every socket has
 * a 2 s timeout, and the request count is fixed, so a run cannot hang.
 *
 * Explore mode cannot see a thread wait inside accept or recv, so there the
 * loopback network is modelled in the process: a connection is a fixed
 * series of one-shot events (hz_cancel) for "connected", each request and
 * each response, and every wait parks on one of them. The threads, the
 * middleware, the handler and the map writes are the same.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Every response is this one; a client reads exactly its length. */
static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static gomap *seen; /* map[string]int64, shared by every connection */
static hz_mutex mu;
static bool fixed;
static int listener, nconn, nreq;

/* Explore mode's connections: client c fires connected, then req[i] with
 * path[i] set, and waits for resp[i]; req[nreq] with no path is its close. */
#define MODEL_REQS HZ_EXPLORE_LOOPS
static struct model_conn {
	hz_cancel connected, req[MODEL_REQS + 1], resp[MODEL_REQS];
	char path[MODEL_REQS][128];
} model[3]; /* index 1 and 2: explore mode runs two connections */

static bool modelled(void)
{
	return hz_run_mode() == HZ_EXPLORE;
}

static void remember(const char *prefix, const char *path, int64_t v)
{
	char key[160];
	int n = snprintf(key, sizeof(key), "%s %s", prefix, path);
	if (fixed)
		hz_mutex_lock(&mu);
	gomap_str_set(seen, key, (size_t)n, v);
	if (fixed)
		hz_mutex_unlock(&mu);
}

static void handler(const char *path) /* the handler behind the middleware */
{
	remember("h", path, (int64_t)strlen(path));
}

static void logging(const char *path) /* middleware: record, then call next */
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	remember("mw", path, (int64_t)ts.tv_nsec);
	handler(path);
}

/* Reads one request head ("...\r\n\r\n") into buf; false on EOF or error. */
static bool read_head(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0)
			return false;
		len += (size_t)r;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return true;
	}
	return false;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void serve_model_conn(struct model_conn *c)
{
	for (int i = 0;; i++) {
		hz_cancel_wait(&c->req[i]);
		if (i == nreq)
			return; /* the client closed */
		logging(c->path[i]);
		hz_cancel_fire(&c->resp[i]);
	}
}

static void serve_conn(void *arg) /* one thread per connection, like net/http */
{
	if (modelled()) {
		serve_model_conn(&model[(intptr_t)arg]);
		return;
	}
	int fd = (int)(intptr_t)arg;
	char req[1024], path[128];
	while (read_head(fd, req, sizeof(req))) {
		if (sscanf(req, "GET %127s HTTP/1.1", path) != 1)
			break;
		logging(path);
		if (send(fd, response, sizeof(response) - 1, MSG_NOSIGNAL) < 0)
			break;
	}
	close(fd);
}

static void accept_loop(void *arg) /* http.Serve */
{
	hz_wg *conns = arg;
	for (int i = 1; i <= nconn; i++) {
		int fd = i; /* modelled: the connection's index */
		if (modelled())
			hz_cancel_wait(&model[i].connected);
		else if ((fd = accept(listener, NULL, NULL)) < 0)
			hz_die("accept: %s", strerror(errno));
		else
			set_timeouts(fd);
		char name[32];
		snprintf(name, sizeof(name), "conn-%d", i);
		/* Forced: the first connection's write holds the window. */
		hz_go(conns, name, i == 1 ? HZ_HOLDER : HZ_PARTY, serve_conn, (void *)(intptr_t)fd);
	}
}

/* Explore mode's clients, all played by the calling thread (each client
 * thread would multiply the orderings without adding a map operation):
 * every client connects and sends its requests, then waits for the
 * responses, then closes. */
static void model_clients(void)
{
	for (int id = 1; id <= nconn; id++) {
		struct model_conn *c = &model[id];
		hz_cancel_fire(&c->connected);
		for (int i = 0; i < nreq; i++) {
			snprintf(c->path[i], sizeof(c->path[i]), "/item/%d", (id * 31 + i) % 16);
			hz_cancel_fire(&c->req[i]);
		}
	}
	for (int id = 1; id <= nconn; id++)
		for (int i = 0; i < nreq; i++)
			hz_cancel_wait(&model[id].resp[i]);
	for (int id = 1; id <= nconn; id++)
		hz_cancel_fire(&model[id].req[nreq]);
}

static void client(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	getsockname(listener, (struct sockaddr *)&addr, &alen);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&addr, alen) != 0)
		hz_die("connect: %s", strerror(errno));
	char buf[512];
	for (int i = 0; i < nreq; i++) {
		int n = snprintf(buf, sizeof(buf),
		                 "GET /item/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		                 (id * 31 + i) % 16);
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n ||
		    recv(fd, buf, sizeof(response) - 1, MSG_WAITALL) != sizeof(response) - 1)
			hz_die("client %d: request %d failed: %s", id, i, strerror(errno));
		if (memcmp(buf, response, sizeof(response) - 1) != 0)
			hz_die("client %d: unexpected response", id);
	}
	close(fd);
}

static void run(void)
{
	nconn = hz_natural() ? 4 : 2;
	nreq = hz_loops(20);
	seen = gomap_make(&gomap_type_str_i64, 0);
	hz_mutex_init(&mu);
	if (modelled()) {
		for (int c = 1; c <= nconn; c++) {
			hz_cancel_init(&model[c].connected);
			for (int i = 0; i <= nreq; i++)
				hz_cancel_init(&model[c].req[i]);
			for (int i = 0; i < nreq; i++)
				hz_cancel_init(&model[c].resp[i]);
		}
	} else {
		listener = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
		    listen(listener, 16) != 0)
			hz_die("listen on 127.0.0.1: %s", strerror(errno));
		set_timeouts(listener); /* accept gives up after 2 s too */
	}

	hz_force_window(HZ_ARRIVE_WRITE, nconn - 1);
	for (int r = 0; r < hz_rounds(10); r++) { /* each round: fresh connections */
		hz_wg conns, clients;
		hz_wg_init(&conns);
		hz_wg_init(&clients);
		hz_go(&conns, "server", HZ_NONE, accept_loop, &conns);
		if (modelled())
			model_clients(); /* the clients' wait group stays empty */
		for (int c = 1; c <= nconn && !modelled(); c++) {
			char name[32];
			snprintf(name, sizeof(name), "client-%d", c);
			hz_go(&clients, name, HZ_NONE, client, (void *)(intptr_t)c);
		}
		hz_wg_wait(&clients);
		hz_wg_wait(&conns);
	}
	if (!modelled())
		close(listener);
	gomap_free(seen);
}

static void run_bad(void)
{
	run();
}

static void run_fixed(void)
{
	fixed = true;
	run();
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
