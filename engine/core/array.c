#include "array.h"

#include <stdint.h>
#include <stdlib.h>

bool sg_array_reserve(void **items, size_t *cap, size_t count, size_t item_size, size_t first)
{
    if (count < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : (first ? first : 16);
    if (n < *cap || n > SIZE_MAX / item_size)
        return false;
    void *grown = realloc(*items, n * item_size);
    if (!grown)
        return false;
    *items = grown;
    *cap = n;
    return true;
}
