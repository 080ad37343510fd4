/*
 * store.h -- what the 4.3 module exports. The host does not link these: it
 * finds them with dlsym() after dlopen(), as a Go program finds a plugin's
 * symbols with plugin.Lookup.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

/* As the module ships them: no lock around the module's global map. */
void store_put(const char *key, int64_t val);
int64_t store_get(const char *key);

/* The fix, inside the module that owns the state: the same functions
 * behind the module's own mutex. */
void store_put_locked(const char *key, int64_t val);
int64_t store_get_locked(const char *key);

#endif /* STORE_H */
