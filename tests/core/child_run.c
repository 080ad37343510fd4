/*
 * child_run.c -- see child_run.h.
 */
#include "child_run.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DETECTOR_CHILD
#error "DETECTOR_CHILD must name the detector child executable"
#endif

static char *slurp(FILE *f)
{
	cr_assert(fflush(f) == 0);
	long size = ftell(f);
	cr_assert(size >= 0, "ftell: %s", strerror(errno));
	rewind(f);
	char *buf = malloc((size_t)size + 1);
	cr_assert(buf != NULL);
	size_t got = fread(buf, 1, (size_t)size, f);
	buf[got] = '\0';
	return buf;
}

static void split_lines(child_result *r)
{
	size_t cap = 16;
	r->lines = malloc(cap * sizeof *r->lines);
	r->nlines = 0;
	char *p = r->err;
	while (*p) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (r->nlines == cap) {
			cap *= 2;
			r->lines = realloc(r->lines, cap * sizeof *r->lines);
			cr_assert(r->lines != NULL);
		}
		char *line = malloc(len + 1);
		memcpy(line, p, len);
		line[len] = '\0';
		r->lines[r->nlines++] = line;
		p += len;
		if (*p == '\n')
			p++;
	}
}

void child_run(const char *scenario, const char *gotraceback, child_result *r)
{
	memset(r, 0, sizeof *r);
	FILE *out = tmpfile();
	FILE *err = tmpfile();
	cr_assert(out != NULL && err != NULL, "tmpfile: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);

	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		if (gotraceback)
			setenv("GOTRACEBACK", gotraceback, 1);
		else
			unsetenv("GOTRACEBACK");
		/* The child dies on purpose with its maps still allocated: a leak
		 * report from a sanitizer build would only add noise to stderr. */
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[512];
		snprintf(opts, sizeof opts, "%s%sdetect_leaks=0", asan ? asan : "",
		         asan && *asan ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		execl(DETECTOR_CHILD, DETECTOR_CHILD, scenario, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		int e = errno;
		cr_assert(e == EINTR, "waitpid: %s", strerror(e));
	}
	r->status = status;
	r->out = slurp(out);
	r->err = slurp(err);
	fclose(out);
	fclose(err);
	split_lines(r);
}

void child_result_free(child_result *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}

const char *child_status_text(const child_result *r)
{
	static char buf[64];
	if (WIFEXITED(r->status))
		snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		snprintf(buf, sizeof buf, "signal %d (%s)", WTERMSIG(r->status),
		         strsignal(WTERMSIG(r->status)));
	else
		snprintf(buf, sizeof buf, "status 0x%x", r->status);
	return buf;
}

bool child_exited_with(const child_result *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

bool child_killed_by(const child_result *r, int sig)
{
	return WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig;
}

long child_fact(const child_result *r, const char *tag)
{
	size_t n = strlen(tag);
	for (const char *p = r->out; p && *p;) {
		if (strncmp(p, tag, n) == 0 && p[n] == ' ')
			return strtol(p + n + 1, NULL, 10);
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return -1;
}

long child_find_line(const child_result *r, size_t from, size_t to, const char *text)
{
	if (to > r->nlines)
		to = r->nlines;
	for (size_t i = from; i < to; i++)
		if (strcmp(r->lines[i], text) == 0)
			return (long)i;
	return -1;
}

void child_assert_frame(const child_result *r, size_t from, size_t to, const char *fn)
{
	char want[128];
	snprintf(want, sizeof want, "%s(...)", fn);
	long i = child_find_line(r, from, to, want);
	cr_assert(i >= 0, "no frame '%s' in report lines %zu..%zu:\n%s", want, from, to, r->err);
	cr_assert(r->nlines > (size_t)i + 1, "frame '%s' has no file:line after it", want);

	char tag[128];
	snprintf(tag, sizeof tag, "line %s", fn);
	long line = child_fact(r, tag);
	cr_assert(line > 0, "the child did not report the line of its call in %s", fn);

	char pattern[256];
	snprintf(pattern, sizeof pattern,
	         "^\t/.*/tests/core/detector_child\\.c:%ld \\+0x[0-9a-f]+$", line);
	regex_t re;
	cr_assert(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0);
	int rc = regexec(&re, r->lines[i + 1], 0, NULL, 0);
	regfree(&re);
	cr_assert(rc == 0,
	          "frame '%s': expected '\\t/.../tests/core/detector_child.c:%ld +0x..', got '%s'",
	          want, line, r->lines[i + 1]);
}

void child_assert_report(const child_result *r, const expected_report *e)
{
	cr_assert(child_exited_with(r, 2),
	          "expected exit 2, got %s\n--- stdout:\n%s--- stderr:\n%s", child_status_text(r),
	          r->out, r->err);
	cr_assert(r->nlines >= 4, "report too short:\n%s", r->err);
	cr_assert(eq(str, r->lines[0], (char *)e->first_line), "first line of:\n%s", r->err);
	cr_assert(eq(str, r->lines[1], ""), "second line of:\n%s", r->err);

	char tag[64], want[160];
	snprintf(tag, sizeof tag, "tid %s", e->detect_who);
	long detect_tid = child_fact(r, tag);
	cr_assert(detect_tid > 0, "the child did not print '%s'", tag);
	snprintf(want, sizeof want, "thread %ld \"%s\" [running]:", detect_tid, e->detect_who);
	cr_assert(eq(str, r->lines[2], want), "detecting thread header in:\n%s", r->err);
	snprintf(want, sizeof want, "%s(...)", e->detect_api);
	cr_assert(eq(str, r->lines[3], want), "first frame of the detecting thread in:\n%s",
	          r->err);
	cr_assert(r->nlines <= REPORT_MAX_LINES, "report of %zu lines is not bounded", r->nlines);

	/* The detecting thread's section ends at the blank line before the
	 * other party's header, whatever that header says; it is checked
	 * first, so a wrong other party does not hide other faults. */
	size_t end_of_detector = r->nlines;
	for (size_t i = 4; i < r->nlines; i++)
		if (strncmp(r->lines[i], "write flag held by", 18) == 0) {
			end_of_detector = i - 1;
			break;
		}
	child_assert_frame(r, 4, end_of_detector, e->detect_fn);

	if (e->holder_op) {
		snprintf(tag, sizeof tag, "tid %s", e->holder_who);
		long holder_tid = child_fact(r, tag);
		cr_assert(holder_tid > 0, "the child did not print '%s'", tag);
		snprintf(want, sizeof want,
		         "write flag held by thread %ld \"%s\" [%s]:", holder_tid, e->holder_who,
		         e->holder_op);
		long h = child_find_line(r, 4, r->nlines, want);
		cr_assert(h > 0, "no line '%s' in:\n%s", want, r->err);
		cr_assert(eq(str, r->lines[h - 1], ""), "no blank line before '%s' in:\n%s", want,
		          r->err);
		snprintf(want, sizeof want, "%s(...)", e->holder_api);
		cr_assert(r->nlines > (size_t)h + 1, "nothing after the holder header");
		cr_assert(eq(str, r->lines[h + 1], want), "the holder's API call in:\n%s", r->err);
		child_assert_frame(r, (size_t)h + 2, r->nlines, e->holder_fn);
	} else {
		cr_assert(end_of_detector == r->nlines,
		          "a panic names no other party, but line %zu is '%s'", end_of_detector + 1,
		          r->lines[end_of_detector + 1]);
	}
}
