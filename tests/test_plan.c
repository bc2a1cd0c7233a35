/* The memory plan of eval graphs (engine/nn/plan.h): slots whose lives meet
 * never share memory, slots whose lives do not share it, kept slots are
 * never reused; a graph recorded with a finished plan computes what it does
 * with a tensor per node, in less memory; a graph that records other tensors
 * than its plan learnt fails with a clear error instead of aliasing them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/nn/graph.h"
#include "harness.h"

#define ALIGN 64 /* plan.c's offsets: whole blocks of 64 floats */

static size_t blocks(size_t floats)
{
    return (floats + ALIGN - 1) / ALIGN * ALIGN;
}

/* A plan of slots {floats, first op, last op (-1: kept)}, replayed: every
 * pair whose lives meet lies apart, and the arena holds them all. */
static void test_slots(void)
{
    static const struct { size_t floats; int first, last; } S[] = {
        {1000, 1, 2}, {500, 2, 3}, {1000, 3, 6}, {64, 4, 5}, {3000, 5, 6}, {700, 6, -1}, {100, 7, 8}, {2000, 8, 9},
    };
    enum { N = sizeof S / sizeof S[0] };
    sg_plan *p;
    t_ok(sg_plan_create(&p), "sg_plan_create");
    for (int i = 0; i < N; i++) {
        int slot = sg_plan_add(p, S[i].floats, S[i].first);
        t_check(slot == i, "slot %d numbered in order (%d)", i, slot);
        if (S[i].last < 0)
            sg_plan_keep(p, slot);
        else
            sg_plan_use(p, slot, S[i].last);
    }
    t_ok(sg_plan_finish(p), "sg_plan_finish");
    size_t at[N], arena = sg_plan_arena_floats(p);
    bool placed = true;
    for (int i = 0; i < N; i++)
        placed = sg_plan_next(p, S[i].floats, &at[i]) && placed;
    t_check(placed, "every slot replayed at its size");
    int meeting = 0, overlapping = 0, sharing = 0;
    for (int i = 0; i < N; i++) {
        t_check(at[i] % ALIGN == 0 && at[i] + S[i].floats <= arena, "slot %d at %zu inside the arena of %zu", i,
                at[i], arena);
        for (int j = 0; j < i; j++) {
            int last_j = S[j].last < 0 ? 1 << 30 : S[j].last;
            bool apart = at[i] + blocks(S[i].floats) <= at[j] || at[j] + blocks(S[j].floats) <= at[i];
            if (last_j >= S[i].first) {
                meeting++;
                overlapping += !apart;
            } else {
                sharing += !apart;
            }
        }
    }
    t_check(overlapping == 0, "no two slots whose lives meet share memory (%d of %d pairs do)", overlapping, meeting);
    t_check(sharing > 0, "slots whose lives do not meet share memory (%d pairs)", sharing);
    t_check(arena < sg_plan_unplanned_floats(p), "the arena (%zu floats) is smaller than the slots together (%zu)",
            arena, sg_plan_unplanned_floats(p));
    size_t extra;
    t_check(!sg_plan_next(p, 10, &extra), "no slot past the learnt ones");
    sg_plan_destroy(p);
}

/* x -> 6 activations in a chain (the second one kept: read after the graph);
 * with `wider`, the output upsampled: a tensor the plan did not learn */
typedef struct chain {
    sg_seq *seq;
    sg_graph *g;
    sg_node *kept, *out;
} chain;

static void record_chain(chain *c, sg_tensor *x, sg_plan *plan, bool wider)
{
    t_ok(sg_seq_create(t_dev, &c->seq), "sg_seq_create");
    t_ok(sg_graph_create(t_dev, c->seq, false, &c->g), "sg_graph_create");
    sg_graph_set_plan(c->g, plan);
    sg_node *n = sg_graph_input(c->g, x, false);
    for (int i = 0; i < 6; i++) {
        n = sg_graph_activation(c->g, n, i % 2 ? SG_ACT_LEAKY_RELU : SG_ACT_TANH, 0.1f);
        if (i == 1) {
            c->kept = n;
            sg_graph_keep(c->g, n);
        }
    }
    c->out = wider ? sg_graph_upsample2x(c->g, n) : n;
}

static void run_chain(chain *c, float **out, float **kept)
{
    t_ok(sg_graph_status(c->g), "the chain recorded");
    t_ok(sg_seq_finish(c->seq), "sg_seq_finish");
    t_ok(sg_seq_run(c->seq), "sg_seq_run");
    *out = t_download(c->out->value);
    *kept = t_download(c->kept->value);
}

static void destroy_chain(chain *c)
{
    sg_graph_destroy(c->g);
    sg_seq_destroy(c->seq);
}

static void test_graph_plan(void)
{
    sg_shape xs = sg_shape4(2, 3, 8, 8);
    size_t n = sg_shape_count(xs);
    float *xv = t_alloc(n);
    t_random(xv, n, -2, 2, 1);
    sg_tensor *x = t_tensor(xs, xv);

    chain plain, learning, planned, changed;
    float *want_out, *want_kept, *got_out, *got_kept;
    record_chain(&plain, x, NULL, false);
    run_chain(&plain, &want_out, &want_kept);

    sg_plan *plan;
    t_ok(sg_plan_create(&plan), "sg_plan_create");
    record_chain(&learning, x, plan, false);
    t_ok(sg_graph_status(learning.g), "the chain recorded while the plan learns");
    destroy_chain(&learning);
    t_ok(sg_plan_finish(plan), "sg_plan_finish");

    record_chain(&planned, x, plan, false);
    run_chain(&planned, &got_out, &got_kept);
    t_check(memcmp(got_out, want_out, n * sizeof(float)) == 0, "planned: the output the same bits");
    t_check(memcmp(got_kept, want_kept, n * sizeof(float)) == 0,
            "planned: the kept node intact after the ops that followed it");
    size_t without = sg_graph_bytes(plain.g), with = sg_graph_bytes(planned.g);
    t_check(with * 2 <= without, "planned: %zu bytes for the nodes, at most half of %zu without the plan "
            "(the chain needs 3 tensors live at once of its 6)", with, without);

    /* a recording that differs from the learnt one: an error, no aliasing */
    record_chain(&changed, x, plan, true);
    sg_status s = sg_graph_status(changed.g);
    t_check(s == SG_ERR_STATE && strstr(sg_error_message(), "memory plan"),
            "a graph recording other tensors than its plan learnt fails (%s: %s)", sg_status_name(s),
            sg_error_message());

    destroy_chain(&plain);
    destroy_chain(&planned);
    destroy_chain(&changed);
    sg_plan_destroy(plan);
    sg_tensor_destroy(x);
    free(xv), free(want_out), free(want_kept), free(got_out), free(got_kept);
}

int main(void)
{
    t_begin("plan");
    test_slots();
    test_graph_plan();
    return t_end();
}
