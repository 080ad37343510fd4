/*
 * explore_json.c -- explore mode's summary: one JSON object on one line of
 * stdout, its fields in the order harness.h lists them.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

static int by_sig(const void *a, const void *b)
{
	return strcmp(((const xend *)a)->sig, ((const xend *)b)->sig);
}

void hz_x_print_summary_(FILE *f, const hz_case *c, const hz_variant *v, int bound, uint64_t cap,
                         bool exhausted, double secs, xtally *t)
{
	qsort(t->ends, (size_t)t->nends, sizeof t->ends[0], by_sig);
	fputs("{\"case\":", f);
	json_str(f, c->id);
	fputs(",\"variant\":", f);
	json_str(f, v->name);
	fprintf(f,
	        ",\"mode\":\"explore\",\"bound\":%d,\"max_schedules\":%" PRIu64 ",\"seed\":%" PRIu64
	        ",\"loops\":%d,\"threads\":%d,\"size\":%d,\"schedules\":%" PRIu64
	        ",\"exhausted\":%s,\"elapsed_s\":%.3f,\"schedules_per_s\":%.0f",
	        bound, cap, hz_run_seed_(), HZ_EXPLORE_LOOPS, HZ_EXPLORE_THREADS, HZ_EXPLORE_SIZE,
	        t->schedules, exhausted ? "true" : "false", secs,
	        secs > 0 ? (double)t->schedules / secs : 0.0);
	fputs(",\"ends\":{", f);
	for (int i = 0; i < t->nends; i++) {
		if (i)
			fputc(',', f);
		json_str(f, t->ends[i].sig);
		fprintf(f, ":%" PRIu64, t->ends[i].count);
	}
	fprintf(f,
	        "},\"clean\":%" PRIu64 ",\"reported\":%" PRIu64 ",\"overlapping\":%" PRIu64
	        ",\"blind_spots\":%" PRIu64 ",\"other\":%" PRIu64 ",\"cut_short\":%" PRIu64
	        ",\"other_ends\":[",
	        t->clean, t->reported, t->overlapping, t->blind, t->other, t->cut);
	bool first = true;
	for (int i = 0; i < t->nends; i++) {
		if (t->ends[i].report || strcmp(t->ends[i].sig, "clean") == 0)
			continue;
		fputs(first ? "{\"end\":" : ",{\"end\":", f);
		first = false;
		json_str(f, t->ends[i].sig);
		fprintf(f, ",\"count\":%" PRIu64 ",\"example\":", t->ends[i].count);
		json_str(f, t->ends[i].example.s);
		fputc('}', f);
	}
	fputs("],\"shortest_detecting\":", f);
	json_str_or_null(f, t->shortest.s);
	fputs(",\"blind_spot_example\":", f);
	json_str_or_null(f, t->blind_example.s);
	fprintf(f, ",\"max_choice_points\":%" PRIu32 "}\n", t->max_choices);
	fflush(f);
}
