/*
 * nil-map-assign: assignment into a nil map, here a struct field that was
 * never initialised. No threads needed: this one is certain.
 *
 * Go:      type Config struct{ labels map[string]int }
 *          var c Config
 *          c.labels["env"] = 1
 * Expect:  panic: assignment to entry in nil map
 * Fix:     a constructor that makes the map: func NewConfig() *Config {
 *          return &Config{labels: map[string]int{}} }
 *
 * Reading, len, range and delete on a nil map are all fine (see
 * control-nil-map-read); only assignment panics. Unlike the fatal errors,
 * Go can recover() from this panic; unrecovered, it ends the process with
 * exit status 2 as well.
 */
#include "harness.h"

typedef struct config {
	const char *name;
	gomap *labels; /* map[string]int64; NULL is Go's nil map */
} config;

static config config_new(const char *name) /* the fix */
{
	return (config){name, gomap_make(&gomap_type_str_i64, 0)};
}

static void label(config *c)
{
	if (gomap_str_get(c->labels, "env", 3) == 0) /* reading a nil map is fine */
		gomap_str_set(c->labels, "env", 3, 1);
}

static void run_bad(void)
{
	config c = {.name = "svc"}; /* labels never made */
	label(&c);
}

static void run_fixed(void)
{
	config c = config_new("svc");
	label(&c);
	gomap_free(c.labels);
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
