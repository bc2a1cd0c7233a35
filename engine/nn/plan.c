#include "plan.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "../core/array.h"
#include "../core/error.h"

/* Offsets are whole blocks of 64 floats (256 bytes): every view starts where
 * the kernels' vec4 and texel paths want it. */
#define ALIGN_FLOATS 64u

typedef struct slot {
    size_t floats, offset;
    int first, last; /* ops; last INT_MAX: kept */
} slot;

struct sg_plan {
    slot *slots;
    size_t count, cap;
    bool finished;
    size_t arena, next;
};

sg_status sg_plan_create(sg_plan **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? SG_OK : sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
}

void sg_plan_destroy(sg_plan *p)
{
    if (!p)
        return;
    free(p->slots);
    free(p);
}

int sg_plan_add(sg_plan *p, size_t floats, int op)
{
    if (p->finished || p->count >= INT_MAX ||
        !sg_array_reserve((void **)&p->slots, &p->cap, p->count, sizeof *p->slots, 64))
        return -1;
    p->slots[p->count] = (slot){floats, 0, op, op};
    return (int)p->count++;
}

void sg_plan_use(sg_plan *p, int slot, int op)
{
    if (!p->finished && slot >= 0 && (size_t)slot < p->count && p->slots[slot].last < op)
        p->slots[slot].last = op;
}

void sg_plan_keep(sg_plan *p, int slot)
{
    if (!p->finished && slot >= 0 && (size_t)slot < p->count)
        p->slots[slot].last = INT_MAX;
}

static size_t blocks(size_t floats)
{
    return (floats + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

/* First fit in slot order: slot i goes at the lowest offset where it meets
 * none of the slots placed before it that are still alive when it is made
 * (last >= i's first: the inputs of the op that makes it among them). A
 * graph has a few hundred slots, so the quadratic search costs nothing. */
sg_status sg_plan_finish(sg_plan *p)
{
    size_t *live = malloc((p->count ? p->count : 1) * sizeof *live);
    if (!live)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    p->arena = 0;
    for (size_t i = 0; i < p->count; i++) {
        slot *s = &p->slots[i];
        size_t n = 0;
        for (size_t j = 0; j < i; j++)
            if (p->slots[j].last >= s->first)
                live[n++] = j;
        /* the lowest offset clear of every live slot: try 0, then each live slot's end */
        size_t best = SIZE_MAX;
        for (size_t c = 0; c <= n; c++) {
            size_t at = c == n ? 0 : p->slots[live[c]].offset + blocks(p->slots[live[c]].floats);
            bool clear = at < best;
            for (size_t k = 0; k < n && clear; k++) {
                const slot *o = &p->slots[live[k]];
                clear = at + blocks(s->floats) <= o->offset || o->offset + blocks(o->floats) <= at;
            }
            if (clear)
                best = at;
        }
        s->offset = best;
        if (best + blocks(s->floats) > p->arena)
            p->arena = best + blocks(s->floats);
    }
    free(live);
    p->finished = true;
    p->next = 0;
    return SG_OK;
}

bool sg_plan_finished(const sg_plan *p)
{
    return p->finished;
}

size_t sg_plan_arena_floats(const sg_plan *p)
{
    return p->arena;
}

size_t sg_plan_unplanned_floats(const sg_plan *p)
{
    size_t sum = 0;
    for (size_t i = 0; i < p->count; i++)
        sum += p->slots[i].floats;
    return sum;
}

void sg_plan_rewind(sg_plan *p)
{
    p->next = 0;
}

bool sg_plan_next(sg_plan *p, size_t floats, size_t *offset)
{
    if (!p->finished || p->next >= p->count || p->slots[p->next].floats != floats)
        return false;
    *offset = p->slots[p->next++].offset;
    return true;
}
