/*
 * report.c -- how a misused map ends the process.
 *
 * Go ends a program that misuses a map with `fatal error: <message>`, a
 * blank line and the stack of the goroutine that noticed, then exit status
 * 2 (runtime.fatal). The report here has the same shape, with a thread in
 * place of the goroutine:
 *
 *     fatal error: concurrent map writes
 *
 *     thread 3 "writer-2" [running]:
 *     gomap_i64_set(...)
 *             /src/core/map_fast64.c:29 +0x4b
 *     writer(...)
 *             /src/cases/x.c:41 +0x1e
 *
 *     write flag held by thread 2 "writer-1" [map write]:
 *     gomap_i64_set(...)
 *     writer(...)
 *             /src/cases/x.c:41 +0x1e
 *
 * The last block goes further than Go, whose report cannot name the other
 * goroutine (golang/go #26703, #46995, #69652): every writer records its
 * thread, operation and call site when it sets the write flag, so the
 * detecting thread can name whoever set it last. The record is racy by
 * nature and best-effort, like the detector itself.
 *
 * The report is bounded (at most MAX_FRAMES frames per stack, MAX_THREADS
 * threads; Go's unbounded dumps are golang/go #68019). Only the first thread
 * to detect a misuse reports; any other parks, and a thread that tries to
 * exit the process normally meanwhile is held back until the report is out.
 *
 * GOTRACEBACK is honoured as in Go: none prints the first line only, single
 * (the default) the report above, all adds every other thread of the
 * process, crash does what all does and then raises SIGABRT.
 *
 * Its helpers live beside it: thread numbers and names (thread.c), function
 * names and lines through libdw (symbols.c), the flight recorder's ring
 * (timeline.c); the hooks and the instrumentation word are instrument.c's.
 */
#define _GNU_SOURCE
#include "common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { MAX_FRAMES = 32, MAX_THREADS = 64 };

static void print_thread_header(int id, const char *state);

const char *gomap_op_name(gomap_op op)
{
	static const char *const names[GOMAP_OP_COUNT_] = {
	        [GOMAP_OP_NONE] = "none",         [GOMAP_OP_ACCESS] = "map read",
	        [GOMAP_OP_ASSIGN] = "map write",  [GOMAP_OP_DELETE] = "map delete",
	        [GOMAP_OP_CLEAR] = "map clear",   [GOMAP_OP_CLONE] = "map clone",
	        [GOMAP_OP_ITER] = "map iteration"};
	return (unsigned)op < GOMAP_OP_COUNT_ ? names[op] : "unknown";
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

static void put(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void gm_out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	put(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void print_frame(const gm_frame *f, bool with_location)
{
	if (f->func)
		gm_out("%s(...)\n", f->func);
	else
		gm_out("0x%lx(...)\n", (unsigned long)f->pc);
	if (!with_location)
		return;
	if (f->file)
		gm_out("\t%s:%d +0x%lx\n", f->file, f->line, (unsigned long)f->off);
	else
		gm_out("\t?:0 +0x%lx\n", (unsigned long)f->off);
}

/* Frames inside the core's own machinery (and a sanitizer's wrapper around
 * backtrace), which Go would elide too. */
static bool internal_frame(const gm_frame *f)
{
	if (f->func == NULL)
		return false;
	return strncmp(f->func, "gm_", 3) == 0 || strcmp(f->func, "evacuate") == 0 ||
	       strcmp(f->func, "report") == 0 || strstr(f->func, "backtrace") != NULL;
}

/* Where a thread's or the process's own story begins: the C library's
 * start-up frames below it are not shown (Go elides runtime.goexit). */
static bool entry_frame(const gm_frame *f)
{
	static const char *const names[] = {"start_thread",
	                                    "__clone3",
	                                    "clone",
	                                    "__libc_start_call_main",
	                                    "__libc_start_main",
	                                    "_start",
	                                    "__tsan_thread_start_func"};
	if (f->func == NULL)
		return false;
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
		if (strcmp(f->func, names[k]) == 0)
			return true;
	return false;
}

/* Is `pc` (a return address) inside the C library? Answered with dladdr,
 * which reads only the dynamic symbol table, so that a report never has to
 * load the C library's debug information to recognise thread start-up. */
static bool in_libc(uintptr_t pc)
{
	static const char *libc_file;
	Dl_info info;
	if (libc_file == NULL) {
		if (dladdr((void *)gnu_get_libc_version, &info) == 0 || info.dli_fname == NULL)
			return false;
		libc_file = info.dli_fname;
	}
	return pc != 0 && dladdr((void *)(pc - 1), &info) != 0 && info.dli_fname != NULL &&
	       strcmp(info.dli_fname, libc_file) == 0;
}

static void print_stack(void *const *pcs, int n, bool skip_internal)
{
	gm_frame fr[MAX_FRAMES + 8];
	int shown = 0, i = 0;
	if (n > MAX_FRAMES + 8)
		n = MAX_FRAMES + 8;
	/* The frames below the program's own code, where a thread starts, are
	 * the C library's (start_thread, clone3): leave them out unread. */
	while (n > 0 && (pcs[n - 1] == NULL || in_libc((uintptr_t)pcs[n - 1])))
		n--;
	for (int j = 0; j < n; j++)
		fr[j].func = NULL;
	/* Skip the reporting machinery at the top of the stack. A hook runs
	 * inside the map operation, so stop at the first frame that is not
	 * the machinery: anything deeper is the program's story. */
	for (; skip_internal && i < n; i++) {
		gm_symbolise_name((uintptr_t)pcs[i], &fr[i]);
		if (fr[i].func != NULL && !internal_frame(&fr[i]))
			break;
	}
	if (i == n)
		i = 0;
	for (; i < n; i++) {
		if (fr[i].func == NULL)
			gm_symbolise_name((uintptr_t)pcs[i], &fr[i]);
		if (entry_frame(&fr[i]))
			break;
		if (shown == MAX_FRAMES) {
			gm_out("...additional frames elided...\n");
			break;
		}
		/* backtrace() hands out return addresses, except for the
		 * innermost frame; treating all as return addresses only
		 * shifts that frame by one byte. */
		gm_symbolise_line(&fr[i]);
		print_frame(&fr[i], true);
		shown++;
		if (fr[i].func && strcmp(fr[i].func, "main") == 0)
			break;
	}
}

/* ------------------------------------------------------------------------ */
/* GOTRACEBACK=all: the other threads                                       */
/* ------------------------------------------------------------------------ */

/*
 * Go stops the world and prints every goroutine. Here each other thread is
 * asked, one at a time, with a signal, to record its own stack from inside
 * the handler; a thread that does not answer within a few milliseconds (the
 * signal blocked, or the thread stuck in the kernel) is listed without one.
 */
static struct {
	pid_t target;
	int done;
	int id;
	int n;
	void *pcs[MAX_FRAMES + 8];
} capture;

static void capture_handler(int sig)
{
	(void)sig;
	if (gettid() != __atomic_load_n(&capture.target, __ATOMIC_ACQUIRE))
		return;
	capture.id = gm_my_thread_id;
	capture.n = backtrace(capture.pcs, MAX_FRAMES + 8);
	__atomic_store_n(&capture.done, 1, __ATOMIC_RELEASE);
}

static bool capture_stack(pid_t tid, int sig)
{
	__atomic_store_n(&capture.done, 0, __ATOMIC_RELAXED);
	capture.n = 0;
	capture.id = 0;
	__atomic_store_n(&capture.target, tid, __ATOMIC_RELEASE);
	if (tgkill(getpid(), tid, sig) != 0)
		return false;
	for (int waited = 0; waited < 50; waited++) {
		if (__atomic_load_n(&capture.done, __ATOMIC_ACQUIRE))
			return true;
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	__atomic_store_n(&capture.target, 0, __ATOMIC_RELEASE);
	return false;
}

static void read_small_file(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static void print_other_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (d == NULL)
		return;
	int sig = SIGRTMIN + 5;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = capture_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, &old);
	pid_t self = gettid();
	int listed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid == self)
			continue;
		if (listed++ == MAX_THREADS) {
			gm_out("\n...additional threads elided...\n");
			break;
		}
		char path[64], comm[64], stat[256];
		snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
		read_small_file(path, comm, sizeof comm);
		comm[strcspn(comm, "\n")] = '\0';
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
		read_small_file(path, stat, sizeof stat);
		char *p = strrchr(stat, ')');
		char state = p && p[1] == ' ' ? p[2] : '?';
		const char *st = state == 'R' ? "running" : state == 'S' ? "sleeping" : "waiting";
		bool got = capture_stack(tid, sig);
		gm_out("\n");
		if (got && capture.id != 0)
			print_thread_header(capture.id, st);
		else
			gm_out("os thread %d \"%s\" [%s]:\n", (int)tid, comm, st);
		if (!got) {
			gm_out("(stack not captured)\n");
			continue;
		}
		/* Drop the handler's own frame and the signal trampoline
		 * under it. */
		int from = 0;
		for (int i = 0; i < capture.n; i++) {
			gm_frame f;
			gm_symbolise_name((uintptr_t)capture.pcs[i], &f);
			if (f.func && strcmp(f.func, "capture_handler") == 0) {
				from = i + 2 <= capture.n ? i + 2 : capture.n;
				break;
			}
		}
		print_stack(capture.pcs + from, capture.n - from, false);
	}
	sigaction(sig, &old, NULL);
	closedir(d);
}

/* ------------------------------------------------------------------------ */
/* The report                                                               */
/* ------------------------------------------------------------------------ */

static int reporting;       /* set by the one thread that reports */
static int reporter_thread; /* its gm_thread_id */

/* A normal exit() from another thread while the report is being written
 * would end the process with the wrong status: hold it back. */
static void hold_exit_while_reporting(void)
{
	if (__atomic_load_n(&reporting, __ATOMIC_ACQUIRE) && reporter_thread != gm_thread_id())
		for (;;)
			pause();
}

__attribute__((constructor)) static void report_init(void)
{
	atexit(hold_exit_while_reporting);
}

typedef enum { TB_NONE, TB_SINGLE, TB_ALL, TB_CRASH } traceback_level;

static traceback_level traceback_setting(void)
{
	const char *s = getenv("GOTRACEBACK");
	if (s == NULL || *s == '\0' || strcmp(s, "single") == 0 || strcmp(s, "1") == 0)
		return TB_SINGLE;
	if (strcmp(s, "none") == 0 || strcmp(s, "0") == 0)
		return TB_NONE;
	if (strcmp(s, "all") == 0 || strcmp(s, "2") == 0 || strcmp(s, "system") == 0)
		return TB_ALL;
	if (strcmp(s, "crash") == 0)
		return TB_CRASH;
	return TB_SINGLE;
}

static void print_thread_header(int id, const char *state)
{
	char name[GM_NAME_LEN];
	gm_thread_name(id, name);
	if (name[0])
		gm_out("thread %d \"%s\" [%s]:\n", id, name, state);
	else
		gm_out("thread %d [%s]:\n", id, state);
}

/* The other party: the thread recorded as holding the write flag of `h`.
 * After an entry check that is the latest setter, whoever it is (it may be
 * the detecting thread itself, re-entering the map from inside its own
 * write); after a failed exit check it is the latest setter other than the
 * detecting thread. */
typedef enum { PARTY_NONE, PARTY_HOLDER, PARTY_OTHER_WRITER } party_rule;

static void print_other_party(gomap *h, party_rule rule)
{
	int me = gm_thread_id();
	unsigned seq = GM_LOAD(&GM_HDR(h)->writer_seq);
	for (unsigned k = 0; k < GM_WRITERS && k < seq; k++) { /* newest first */
		const gm_writer *w = &GM_HDR(h)->writer[(seq - 1 - k) % GM_WRITERS];
		int id = GM_LOAD(&w->id);
		const gm_api *a = GM_LOAD(&w->api);
		if (id == 0 || a == NULL || (rule == PARTY_OTHER_WRITER && id == me))
			continue;
		gomap_op op = a->op;
		const char *api = a->name;
		uintptr_t pc = GM_LOAD(&w->pc);
		gm_out("\nwrite flag held by ");
		print_thread_header(id, gomap_op_name(op));
		gm_out("%s(...)\n", api ? api : "?");
		gm_frame f;
		gm_symbolise(pc, &f);
		print_frame(&f, true);
		return;
	}
	gm_out("\nwrite flag held by: unknown\n");
}

/* Output the program had buffered is not lost, unless another thread holds
 * the stream's lock (waiting for it could hang the report). */
static void flush_stdio(void)
{
	FILE *streams[2] = {stdout, stderr};
	for (int i = 0; i < 2; i++) {
		if (ftrylockfile(streams[i]) == 0) {
			fflush_unlocked(streams[i]);
			funlockfile(streams[i]);
		}
	}
}

static _Noreturn void finish(traceback_level tb)
{
	if (tb == TB_CRASH) {
		signal(SIGABRT, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGABRT);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		raise(SIGABRT);
	}
	_exit(2);
}

/* Take the right to report, or park forever if another thread has it. */
static void claim_report(void)
{
	int expected = 0;
	if (!__atomic_compare_exchange_n(&reporting, &expected, 1, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE)) {
		if (reporter_thread == gm_thread_id())
			_exit(2); /* a failure while reporting: give up at once */
		for (;;)
			pause();
	}
	reporter_thread = gm_thread_id();
}

static _Noreturn GM_NOINLINE void report(const char *first, const char *msg, gomap *h, gomap_op op,
                                         party_rule party)
{
	/* The moment of detection, before anything slow happens. */
	gm_hooks_off = 0;
	gm_hook(gm_instr(), GOMAP_EV_DETECTED, h, op);
	void *pcs[MAX_FRAMES + 8];
	int n = backtrace(pcs, MAX_FRAMES + 8);
	claim_report();
	flush_stdio();
	traceback_level tb = traceback_setting();
	gm_out("%s%s\n", first, msg);
	if (tb == TB_NONE)
		finish(tb);
	gm_symbols_open();
	gm_out("\n");
	print_thread_header(gm_thread_id(), "running");
	print_stack(pcs, n, true);
	if (party != PARTY_NONE && h != NULL)
		print_other_party(h, party);
	if (h != NULL)
		gm_print_timeline(h);
	if (tb >= TB_ALL)
		print_other_threads();
	finish(tb);
}

void gm_fatal_misuse(const char *msg, gomap *h, gomap_op op)
{
	report("fatal error: ", msg, h, op, PARTY_HOLDER);
}

void gm_fatal_flag_lost(gomap *h, gomap_op op)
{
	report("fatal error: ", "concurrent map writes", h, op, PARTY_OTHER_WRITER);
}

void gm_fatal_damaged(const char *msg, gomap *h)
{
	report("fatal error: ", msg, h, GOMAP_OP_NONE, PARTY_OTHER_WRITER);
}

void gm_panic_nil_assign(void)
{
	report("panic: ", "assignment to entry in nil map", NULL, GOMAP_OP_ASSIGN, PARTY_NONE);
}
