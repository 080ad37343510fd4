/*
 * child_run.h -- run one scenario of the detector child program in its own
 * process and collect what it printed.
 *
 * The detector ends the process (exit status 2, or SIGABRT), so every misuse
 * is triggered in a fresh process: detector_child.c, started with fork and
 * exec so that nothing of the test framework lives in the dying process.
 * Its stdout carries facts the parent needs to build exact expectations
 * (thread numbers, source lines of the calls); its stderr is the report.
 */
#ifndef CORE_CHILD_RUN_H
#define CORE_CHILD_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct child_result {
	int status;    /* as returned by waitpid */
	char *out;     /* everything written on stdout */
	char *err;     /* everything written on stderr */
	char **lines;  /* err split at '\n' (the pieces, without the newline) */
	size_t nlines; /* count of lines (a final newline adds no empty line) */
} child_result;

/* Runs `detector_child <scenario>`. gotraceback NULL leaves GOTRACEBACK unset. */
void child_run(const char *scenario, const char *gotraceback, child_result *r);
void child_result_free(child_result *r);

/* A human-readable description of r->status ("exit 2", "signal 6"). */
const char *child_status_text(const child_result *r);

/* True when the child exited with `code` / was killed by signal `sig`. */
bool child_exited_with(const child_result *r, int code);
bool child_killed_by(const child_result *r, int sig);

/* The number after "<tag> " on stdout ("tid prober 1", "line hold_set 88"), or -1. */
long child_fact(const child_result *r, const char *tag);

/* Index of the first stderr line in [from, to) equal to `text`, or -1. */
long child_find_line(const child_result *r, size_t from, size_t to, const char *text);

/* What a report must say. The holder fields are NULL for the nil-map panic,
 * whose report has no other party. */
typedef struct expected_report {
	const char *first_line; /* Go's line, byte for byte */
	const char *detect_api; /* first frame of the detecting thread, e.g. "gomap_i64_get" */
	const char *detect_fn;  /* the child's function that made that call */
	const char *detect_who; /* the detecting thread's name: "prober" */
	const char *holder_op;  /* "map write", "map delete", "map clear" */
	const char *holder_api; /* the holder's API call, e.g. "gomap_i64_set" */
	const char *holder_fn;  /* the child's function that made that call */
	const char *holder_who; /* the holder thread's name */
} expected_report;

/* The longest report accepted: the frames are bounded like Go's (which stops
 * at 100 frames), whatever the depth of the stack. */
#define REPORT_MAX_LINES 250

/* Asserts exit status 2 and the whole shape of the report:
 *   <first line>
 *   <blank>
 *   thread <n> "<detect_who>" [running]:
 *   <detect_api>(...)
 *   ... a frame "<detect_fn>(...)" then "\t/abs/.../detector_child.c:<line> +0x<hex>"
 *   <blank>
 *   write flag held by thread <n> "<holder_who>" [<holder_op>]:
 *   <holder_api>(...)
 *   ... a frame "<holder_fn>(...)" with its file:line
 * where the thread numbers and lines are the ones the child printed. */
void child_assert_report(const child_result *r, const expected_report *e);

/* Asserts that a frame line "<fn>(...)" lies in [from, to) and is followed by
 * its file:line in detector_child.c at the line the child printed for fn. */
void child_assert_frame(const child_result *r, size_t from, size_t to, const char *fn);

#endif /* CORE_CHILD_RUN_H */
