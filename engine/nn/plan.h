/* The memory of an eval graph planned by lifetime, as ggml's allocator does:
 * a node's tensor is reused for a later node once its last reader has been
 * recorded. The graph records eagerly (each op's addresses go into the
 * sequence as it is recorded), so the plan is made from a first recording:
 *
 *   learn:  sg_graph_set_plan(g, plan) on an empty plan, record the graph,
 *           sg_graph_keep() each node read after the graph (by ops outside
 *           it, by another graph, or downloaded), then sg_plan_finish();
 *   replay: destroy that recording, set the finished plan on a new graph and
 *           record the same ops again: its nodes are views of one arena at
 *           the planned offsets.
 *
 * A slot is one tensor the graph made, in the order it made them; its life
 * runs from the op that wrote it first to the last op that read or wrote it.
 * Two slots share memory only where their lives do not meet. Internal to the
 * nn layer. */
#ifndef SGAD_NN_PLAN_H
#define SGAD_NN_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "sgad/status.h"

typedef struct sg_plan sg_plan;

sg_status sg_plan_create(sg_plan **out);
void sg_plan_destroy(sg_plan *p);

/* learning: a new slot of `floats`, made by op `op`; its index, or -1 when out of memory */
int sg_plan_add(sg_plan *p, size_t floats, int op);
/* learning: slot read or written by op `op` */
void sg_plan_use(sg_plan *p, int slot, int op);
/* learning: slot read after the graph: it shares memory with no later slot */
void sg_plan_keep(sg_plan *p, int slot);
/* Place every slot: after it the plan replays. */
sg_status sg_plan_finish(sg_plan *p);

bool sg_plan_finished(const sg_plan *p);
/* Floats of the arena that holds every slot (finished plans). */
size_t sg_plan_arena_floats(const sg_plan *p);
/* Floats the learnt slots hold together: what the graph took without the plan. */
size_t sg_plan_unplanned_floats(const sg_plan *p);
/* replay: back to the first slot (a finished plan set on a new graph) */
void sg_plan_rewind(sg_plan *p);
/* replay: the offset in the arena of the next slot, which must be of `floats`
 * (the graph recorded as when the plan learnt); false when it is not */
bool sg_plan_next(sg_plan *p, size_t floats, size_t *offset);

#endif
