/* The engine's one growable array (engine-internal; every layer may use it). */
#ifndef SGAD_CORE_ARRAY_H
#define SGAD_CORE_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Make room for one more item in *items (count used of *cap, item_size bytes
 * each), doubling the capacity from `first`; false when out of host memory
 * (the array is left as it was). */
bool sg_array_reserve(void **items, size_t *cap, size_t count, size_t item_size, size_t first);

#endif
