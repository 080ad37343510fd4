/*
 * schedule.c -- explore mode's schedules as text.
 *
 * A schedule is written as the choices that differ from the default
 * policy: "-" for none, else "j:t,j:t,..." (choice point j, counting from
 * 0, ran thread t; thread 0 is main, the others count in start order). The
 * summary prints its examples so, and --schedule reads them back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"

bool hz_x_parse_schedule_(const char *s, xdevs *d)
{
	d->n = 0;
	if (strcmp(s, "-") == 0)
		return true;
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	d->at = calloc(cap, sizeof *d->at);
	d->to = calloc(cap, sizeof *d->to);
	if (!d->at || !d->to)
		hz_die("out of memory");
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		unsigned long j = strtoul(p, &end, 10);
		if (end == p || *end != ':' || errno || j >= MAX_CHOICES)
			return false;
		p = end + 1;
		unsigned long t = strtoul(p, &end, 10);
		if (end == p || t >= MAX_THREADS)
			return false;
		if (d->n > 0 && j <= d->at[d->n - 1])
			return false;
		d->at[d->n] = (uint32_t)j;
		d->to[d->n] = (uint8_t)t;
		d->n++;
		if (*end == '\0')
			return true;
		if (*end != ',')
			return false;
		p = end + 1;
	}
}

char *hz_x_schedule_string_(const xchoice *c, uint32_t n)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);
	if (!s)
		hz_die("out of memory");
	s[0] = '\0';
	for (uint32_t j = 0; j < n; j++) {
		if (c[j].chosen == c[j].dflt)
			continue;
		char item[32];
		int k = snprintf(item, sizeof item, "%s%" PRIu32 ":%u", len ? "," : "", j,
		                 (unsigned)c[j].chosen);
		while (len + (size_t)k + 1 > cap) {
			cap *= 2;
			s = realloc(s, cap);
			if (!s)
				hz_die("out of memory");
		}
		memcpy(s + len, item, (size_t)k + 1);
		len += (size_t)k;
	}
	if (len == 0)
		strcpy(s, "-");
	return s;
}

size_t hz_x_deviations_(const xchoice *c, uint32_t n)
{
	size_t d = 0;
	for (uint32_t j = 0; j < n; j++)
		d += c[j].chosen != c[j].dflt;
	return d;
}
