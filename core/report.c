/*
 * report.c -- how a misused map ends the process, and the hooks.
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
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
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

enum { MAX_FRAMES = 32, MAX_THREADS = 64, MAX_NAMED_THREADS = 1024, NAME_LEN = 32 };

gomap_hook_fn gm_hooks[GOMAP_EV_COUNT_];
void *gm_hook_args[GOMAP_EV_COUNT_];
unsigned gm_instrumented;

void gomap_set_hook(gomap_event ev, gomap_hook_fn fn, void *arg)
{
	if ((unsigned)ev >= GOMAP_EV_COUNT_)
		return;
	__atomic_store_n(&gm_hook_args[ev], arg, __ATOMIC_RELAXED);
	__atomic_store_n(&gm_hooks[ev], fn, __ATOMIC_RELEASE);
	bool any = false;
	for (int i = 0; i < GOMAP_EV_COUNT_; i++)
		any |= __atomic_load_n(&gm_hooks[i], __ATOMIC_RELAXED) != NULL;
	if (any)
		__atomic_fetch_or(&gm_instrumented, GM_INSTR_HOOKS, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&gm_instrumented, ~(unsigned)GM_INSTR_HOOKS, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------------ */
/* The flight recorder (GOMAP_TIMELINE=1)                                   */
/* ------------------------------------------------------------------------ */

/*
 * Each map keeps its last GM_TIMELINE_LEN events in a ring: who did which
 * operation, and when it entered, set the write flag, cleared it, or was
 * caught. The report prints the ring, so a reader sees the two operations
 * overlap. The ring index is advanced with a plain load and store: racing
 * threads may overwrite each other's entry, which loses an event but never
 * writes outside the ring. Timestamps come from the CPU's timestamp counter
 * (a few cycles) and are converted to nanoseconds when the report is made.
 */
static uint64_t tsc_start;
static struct timespec mono_start;

static inline uint64_t read_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
#endif
}

static void timeline_record(gomap *h, gomap_op op, gm_phase phase)
{
	/* Acquire: the ring another thread allocated is zeroed before use. */
	gm_event *ring = __atomic_load_n(&h->timeline, __ATOMIC_ACQUIRE);
	if (ring == NULL) {
		gm_event *fresh = calloc(GM_TIMELINE_LEN, sizeof *fresh);
		if (fresh == NULL)
			return;
		gm_event *none = NULL;
		if (__atomic_compare_exchange_n(&h->timeline, &none, fresh, false, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE)) {
			ring = fresh;
		} else {
			free(fresh);
			ring = none;
		}
	}
	uint64_t pos = GM_LOAD(&h->timeline_pos);
	GM_STORE(&h->timeline_pos, pos + 1);
	gm_event *e = &ring[pos % GM_TIMELINE_LEN];
	GM_STORE(&e->tsc, read_tsc());
	GM_STORE(&e->tid, (uint32_t)gm_thread_id());
	GM_STORE(&e->op, (uint8_t)op);
	GM_STORE(&e->phase, (uint8_t)phase);
}

void gm_instrument(unsigned ev, gomap *h, gomap_op op)
{
	if (gm_hooks_off != 0)
		return; /* the core writing to a map of its own (gomap_clone) */
	if (GM_LOAD(&gm_instrumented) & GM_INSTR_TIMELINE) {
		static const uint8_t phase_of[GOMAP_EV_COUNT_ + 1] = {
		        [GOMAP_EV_WRITE_ENTRY] = GM_PHASE_ENTERED,
		        [GOMAP_EV_WRITE_SET] = GM_PHASE_SET,
		        [GOMAP_EV_READ_ENTRY] = GM_PHASE_ENTERED,
		        [GOMAP_EV_ITER_STEP] = GM_PHASE_ENTERED,
		        [GOMAP_EV_CLONE_ENTRY] = GM_PHASE_ENTERED,
		        [GOMAP_EV_DETECTED] = GM_PHASE_DETECTED,
		        [GM_EV_CLEARED] = GM_PHASE_CLEARED,
		};
		if (h != NULL && phase_of[ev] != 0)
			timeline_record(h, op, (gm_phase)phase_of[ev]);
	}
	if (ev < GOMAP_EV_COUNT_) {
		gomap_hook_fn f = GM_LOAD(&gm_hooks[ev]);
		if (f != NULL)
			f((gomap_event)ev, h, op, GM_LOAD(&gm_hook_args[ev]));
	}
}

static void print_timeline(gomap *h);
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
/* Thread identities                                                        */
/* ------------------------------------------------------------------------ */

static int next_thread_id = 2; /* 1 is the main thread */
_Thread_local int gm_my_thread_id;
static char thread_names[MAX_NAMED_THREADS][NAME_LEN];

int gm_thread_id_slow(void)
{
	if (gm_my_thread_id == 0)
		gm_my_thread_id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
	return gm_my_thread_id;
}

/* Another thread writes now: the previous writer becomes the candidate
 * other party of a failed exit check. */
void gm_record_other_writer(gomap *h, int id)
{
	GM_STORE(&h->writer[1].id, GM_LOAD(&h->writer[0].id));
	GM_STORE(&h->writer[1].api, GM_LOAD(&h->writer[0].api));
	GM_STORE(&h->writer[1].pc, GM_LOAD(&h->writer[0].pc));
	GM_STORE(&h->writer[0].id, id);
}

int gomap_thread_id(void)
{
	return gm_thread_id();
}

void gomap_thread_set_name(const char *name)
{
	int id = gm_thread_id();
	if (id < MAX_NAMED_THREADS) {
		char *slot = thread_names[id];
		size_t n = strnlen(name, NAME_LEN - 1);
		for (size_t i = 0; i < n; i++)
			__atomic_store_n(&slot[i], name[i], __ATOMIC_RELAXED);
		__atomic_store_n(&slot[n], '\0', __ATOMIC_RELAXED);
	}
	char os_name[16];
	snprintf(os_name, sizeof os_name, "%s", name);
	pthread_setname_np(pthread_self(), os_name);
}

static void thread_name(int id, char *out)
{
	out[0] = '\0';
	if (id <= 0 || id >= MAX_NAMED_THREADS)
		return;
	for (int i = 0; i < NAME_LEN - 1; i++) {
		out[i] = __atomic_load_n(&thread_names[id][i], __ATOMIC_RELAXED);
		if (out[i] == '\0')
			return;
	}
	out[NAME_LEN - 1] = '\0';
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

__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...)
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

/* ------------------------------------------------------------------------ */
/* Symbols (libdw)                                                          */
/* ------------------------------------------------------------------------ */

/*
 * libdw is loaded only when a report is made: linking it into every program
 * would make each of them map libdw, libelf and the compression libraries
 * at start-up, which doubled the time a clean run of a small case takes.
 * Without libdw the report still comes out, with addresses for frames.
 */
static struct {
	Dwfl *(*begin)(const Dwfl_Callbacks *);
	int (*report_begin)(Dwfl *);
	int (*proc_report)(Dwfl *, pid_t);
	int (*report_end)(Dwfl *, int (*)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *),
	                  void *);
	void (*end)(Dwfl *);
	Dwfl_Module *(*addrmodule)(Dwfl *, Dwarf_Addr);
	const char *(*addrinfo)(Dwfl_Module *, GElf_Addr, GElf_Off *, GElf_Sym *, GElf_Word *,
	                        Elf **, Dwarf_Addr *);
	Dwfl_Line *(*getsrc)(Dwfl_Module *, Dwarf_Addr);
	const char *(*lineinfo)(Dwfl_Line *, Dwarf_Addr *, int *, int *, Dwarf_Word *,
	                        Dwarf_Word *);
} dw;
static Dwfl_Callbacks dw_callbacks;
static Dwfl *dwfl;

static bool load_libdw(void)
{
	void *lib = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
		return false;
#define DW_SYM(field, name) *(void **)&dw.field = dlsym(lib, name)
	DW_SYM(begin, "dwfl_begin");
	DW_SYM(report_begin, "dwfl_report_begin");
	DW_SYM(proc_report, "dwfl_linux_proc_report");
	DW_SYM(report_end, "dwfl_report_end");
	DW_SYM(end, "dwfl_end");
	DW_SYM(addrmodule, "dwfl_addrmodule");
	DW_SYM(addrinfo, "dwfl_module_addrinfo");
	DW_SYM(getsrc, "dwfl_module_getsrc");
	DW_SYM(lineinfo, "dwfl_lineinfo");
	*(void **)&dw_callbacks.find_elf = dlsym(lib, "dwfl_linux_proc_find_elf");
	*(void **)&dw_callbacks.find_debuginfo = dlsym(lib, "dwfl_standard_find_debuginfo");
#undef DW_SYM
	return dw.begin && dw.report_begin && dw.proc_report && dw.report_end && dw.end &&
	       dw.addrmodule && dw.addrinfo && dw.getsrc && dw.lineinfo && dw_callbacks.find_elf &&
	       dw_callbacks.find_debuginfo;
}

static void symbols_open(void)
{
	if (!load_libdw())
		return;
	dwfl = dw.begin(&dw_callbacks);
	if (dwfl == NULL)
		return;
	dw.report_begin(dwfl);
	if (dw.proc_report(dwfl, getpid()) != 0) {
		dw.end(dwfl);
		dwfl = NULL;
		return;
	}
	dw.report_end(dwfl, NULL, NULL);
}

typedef struct frame {
	const char *func; /* NULL when unknown */
	const char *file; /* NULL when unknown */
	int line;
	uintptr_t off;
	uintptr_t pc;
} frame;

/* `pc` is a return address; the call is the byte before it. The function
 * name comes from the symbol table; the source line, which can mean reading
 * a large library's debug information, only when `want_line`. */
static void symbolise_name(uintptr_t pc, frame *f)
{
	memset(f, 0, sizeof *f);
	f->pc = pc;
	if (dwfl == NULL || pc == 0)
		return;
	Dwfl_Module *mod = dw.addrmodule(dwfl, pc - 1);
	if (mod == NULL)
		return;
	GElf_Off off = 0;
	GElf_Sym sym;
	f->func = dw.addrinfo(mod, pc - 1, &off, &sym, NULL, NULL, NULL);
	f->off = (uintptr_t)off + 1;
}

static void symbolise_line(frame *f)
{
	if (dwfl == NULL || f->pc == 0)
		return;
	Dwfl_Module *mod = dw.addrmodule(dwfl, f->pc - 1);
	Dwfl_Line *line = mod ? dw.getsrc(mod, f->pc - 1) : NULL;
	if (line != NULL)
		f->file = dw.lineinfo(line, NULL, &f->line, NULL, NULL, NULL);
}

static void symbolise(uintptr_t pc, frame *f)
{
	symbolise_name(pc, f);
	symbolise_line(f);
}

static void print_frame(const frame *f, bool with_location)
{
	if (f->func)
		out("%s(...)\n", f->func);
	else
		out("0x%lx(...)\n", (unsigned long)f->pc);
	if (!with_location)
		return;
	if (f->file)
		out("\t%s:%d +0x%lx\n", f->file, f->line, (unsigned long)f->off);
	else
		out("\t?:0 +0x%lx\n", (unsigned long)f->off);
}

/* Frames inside the core's own machinery (and a sanitizer's wrapper around
 * backtrace), which Go would elide too. */
static bool internal_frame(const frame *f)
{
	if (f->func == NULL)
		return false;
	return strncmp(f->func, "gm_", 3) == 0 || strcmp(f->func, "gomap_fatal") == 0 ||
	       strcmp(f->func, "evacuate") == 0 || strcmp(f->func, "report") == 0 ||
	       strstr(f->func, "backtrace") != NULL;
}

/* Where a thread's or the process's own story begins: the C library's
 * start-up frames below it are not shown (Go elides runtime.goexit). */
static bool entry_frame(const frame *f)
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
	frame fr[MAX_FRAMES + 8];
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
		symbolise_name((uintptr_t)pcs[i], &fr[i]);
		if (fr[i].func != NULL && !internal_frame(&fr[i]))
			break;
	}
	if (i == n)
		i = 0;
	for (; i < n; i++) {
		if (fr[i].func == NULL)
			symbolise_name((uintptr_t)pcs[i], &fr[i]);
		if (entry_frame(&fr[i]))
			break;
		if (shown == MAX_FRAMES) {
			out("...additional frames elided...\n");
			break;
		}
		/* backtrace() hands out return addresses, except for the
		 * innermost frame; treating all as return addresses only
		 * shifts that frame by one byte. */
		symbolise_line(&fr[i]);
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
			out("\n...additional threads elided...\n");
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
		out("\n");
		if (got && capture.id != 0)
			print_thread_header(capture.id, st);
		else
			out("os thread %d \"%s\" [%s]:\n", (int)tid, comm, st);
		if (!got) {
			out("(stack not captured)\n");
			continue;
		}
		/* Drop the handler's own frame and the signal trampoline
		 * under it. */
		int from = 0;
		for (int i = 0; i < capture.n; i++) {
			frame f;
			symbolise_name((uintptr_t)capture.pcs[i], &f);
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
	gm_my_thread_id = 1; /* constructors run on the main thread */
	atexit(hold_exit_while_reporting);
	const char *tl = getenv("GOMAP_TIMELINE");
	if (tl != NULL && tl[0] != '\0' && strcmp(tl, "0") != 0) {
		tsc_start = read_tsc();
		clock_gettime(CLOCK_MONOTONIC, &mono_start);
		__atomic_fetch_or(&gm_instrumented, GM_INSTR_TIMELINE, __ATOMIC_RELEASE);
	}
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
	char name[NAME_LEN];
	thread_name(id, name);
	if (name[0])
		out("thread %d \"%s\" [%s]:\n", id, name, state);
	else
		out("thread %d [%s]:\n", id, state);
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
	for (int k = 0; k < 2; k++) {
		int id = GM_LOAD(&h->writer[k].id);
		const gm_api *a = GM_LOAD(&h->writer[k].api);
		if (id == 0 || a == NULL || (rule == PARTY_OTHER_WRITER && id == me))
			continue;
		gomap_op op = a->op;
		const char *api = a->name;
		uintptr_t pc = GM_LOAD(&h->writer[k].pc);
		out("\nwrite flag held by ");
		print_thread_header(id, gomap_op_name(op));
		out("%s(...)\n", api ? api : "?");
		frame f;
		symbolise(pc, &f);
		print_frame(&f, true);
		return;
	}
	out("\nwrite flag held by: unknown\n");
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
	out("%s%s\n", first, msg);
	if (tb == TB_NONE)
		finish(tb);
	symbols_open();
	out("\n");
	print_thread_header(gm_thread_id(), "running");
	print_stack(pcs, n, true);
	if (party != PARTY_NONE && h != NULL)
		print_other_party(h, party);
	if (h != NULL)
		print_timeline(h);
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

void gomap_fatal(const char *msg, gomap *m, gomap_op op)
{
	report("fatal error: ", msg, m, op, m != NULL ? PARTY_HOLDER : PARTY_NONE);
}

void gm_fatal_damaged(const char *msg, gomap *h)
{
	report("fatal error: ", msg, h, GOMAP_OP_NONE, PARTY_OTHER_WRITER);
}

void gm_panic_nil_assign(void)
{
	report("panic: ", "assignment to entry in nil map", NULL, GOMAP_OP_ASSIGN, PARTY_NONE);
}

/* The flight recorder's ring of `h`, oldest event first, with times in
 * microseconds since the oldest event shown. */
static void print_timeline(gomap *h)
{
	gm_event *ring = __atomic_load_n(&h->timeline, __ATOMIC_ACQUIRE);
	if (ring == NULL)
		return;
	uint64_t pos = GM_LOAD(&h->timeline_pos);
	uint64_t n = pos < GM_TIMELINE_LEN ? pos : GM_TIMELINE_LEN;
	/* Calibrate the counter against the monotonic clock since start-up. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ns = (double)(now.tv_sec - mono_start.tv_sec) * 1e9 +
	            (double)(now.tv_nsec - mono_start.tv_nsec);
	uint64_t ticks = read_tsc() - tsc_start;
	double ns_per_tick = ticks > 0 ? ns / (double)ticks : 1.0;
	static const char *const phases[] = {"?", "entered", "write flag set", "write flag cleared",
	                                     "detected"};
	out("\nmap timeline, oldest first (GOMAP_TIMELINE=1):\n");
	uint64_t t0 = 0;
	for (uint64_t k = 0; k < n; k++) {
		const gm_event *slot = &ring[(pos - n + k) % GM_TIMELINE_LEN];
		gm_event e = {GM_LOAD(&slot->tsc), GM_LOAD(&slot->tid), GM_LOAD(&slot->op),
		              GM_LOAD(&slot->phase)};
		if (k == 0)
			t0 = e.tsc;
		double us = (double)(int64_t)(e.tsc - t0) * ns_per_tick / 1000.0;
		char name[NAME_LEN];
		thread_name((int)e.tid, name);
		out("  +%.3fus thread %u%s%s%s %s: %s\n", us, e.tid, name[0] ? " \"" : "", name,
		    name[0] ? "\"" : "", gomap_op_name((gomap_op)e.op),
		    e.phase <= GM_PHASE_DETECTED ? phases[e.phase] : "?");
	}
}
