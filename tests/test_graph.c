/* The model layer's tape: a small network with every kind of graph op (a skip
 * connection, a node used twice, per-channel gating, BN in training mode, alone
 * and with its activation as one op) is run
 * forward and backward on the device, and its parameter and input gradients are
 * compared with central finite differences of the same device forward.
 * Tolerance: 5e-3 absolute + 3e-2 relative with eps 2e-3, large enough that the
 * fp32 forward's rounding (~1e-5 on the loss) stays well below it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/nn/graph.h"
#include "harness.h"

typedef struct net {
    sg_param_set params;
    sg_param *c1w, *c1b, *bnw, *bnb, *bnm, *bnv, *fc1, *fc2, *ctw, *ctb, *c2w;
    sg_param *bn2w, *bn2b, *bn2m, *bn2v; /* batch norm + LeakyReLU as one op */
    sg_tensor *x;
    sg_seq *fwd, *bwd;
    sg_graph *graph;
    sg_node *in, *out;
    sg_tensor *r, *loss; /* loss = sum(r * out) via mse trick below */
} net;

static sg_param *declare(net *n, const char *name, int ndim, int64_t a, int64_t b, int64_t c, int64_t d,
                         sg_init_rule rule, bool trainable)
{
    int64_t dims[4] = {a, b, c, d};
    sg_param *p = sg_params_declare(&n->params, name, ndim, dims, trainable, rule);
    t_ok(p ? SG_OK : SG_ERR_ARGUMENT, name);
    return p;
}

static void build(net *n, bool training)
{
    sg_conv2d k3 = {3, 3, 1, 1, 1}, t4 = {4, 4, 2, 1, 1}, k1 = {1, 1, 1, 0, 1};
    t_ok(sg_seq_create(t_dev, &n->fwd), "fwd seq");
    t_ok(sg_graph_create(t_dev, n->fwd, training, &n->graph), "graph");
    sg_graph *g = n->graph;
    n->in = sg_graph_input(g, n->x, true);
    sg_node *a = sg_graph_conv(g, n->in, &k3, n->c1w, n->c1b);                 /* (2,8,6,6) */
    sg_node *b = sg_graph_batchnorm(g, a, n->bnw, n->bnb, n->bnm, n->bnv);
    sg_node *c = sg_graph_activation(g, b, SG_ACT_LEAKY_RELU, 0.2f);
    sg_node *s = sg_graph_avgpool_global(g, c);                                 /* SE gate */
    s = sg_graph_linear(g, s, n->fc1, NULL);
    s = sg_graph_activation(g, s, SG_ACT_TANH, 0);
    s = sg_graph_linear(g, s, n->fc2, NULL);
    s = sg_graph_activation(g, s, SG_ACT_SIGMOID, 0);
    sg_node *d = sg_graph_mul(g, c, s);
    sg_node *e = sg_graph_add(g, d, a);                                         /* skip: a used twice */
    sg_node *p = sg_graph_maxpool2x2(g, e);                                     /* (2,8,3,3) */
    sg_node *u = sg_graph_conv_transpose(g, p, &t4, n->ctw, n->ctb);           /* (2,4,6,6) */
    sg_node *up = sg_graph_upsample2x(g, p);                                    /* (2,8,6,6) */
    up = sg_graph_batchnorm_act(g, up, n->bn2w, n->bn2b, n->bn2m, n->bn2v, 0.1f);
    sg_node *cat = sg_graph_concat(g, u, up);                                   /* (2,12,6,6) */
    n->out = sg_graph_conv(g, cat, &k1, n->c2w, NULL);                          /* (2,3,6,6) */
    t_ok(sg_graph_status(g), "graph build");
    t_ok(sg_seq_finish(n->fwd), "finish");
}

static double loss_of(net *n, const float *r)
{
    t_ok(sg_seq_run(n->fwd), "forward");
    float *y = t_download(n->out->value);
    double l = 0;
    for (size_t i = 0; i < sg_tensor_count(n->out->value); i++)
        l += (double)r[i] * y[i];
    free(y);
    return l;
}

/* d loss / d v[i] by central differences, perturbing v (uploaded to t). */
static double numeric(net *n, sg_tensor *t, float *v, size_t i, float eps, const float *r, const float *bnm,
                      const float *bnv)
{
    float saved = v[i];
    double l[2];
    for (int sgn = 0; sgn < 2; sgn++) {
        v[i] = saved + (sgn ? -eps : eps);
        t_ok(sg_tensor_upload(t, v), "perturb");
        /* running statistics change with every training forward: restore them */
        t_ok(sg_tensor_upload(n->bnm->value, bnm), "restore");
        t_ok(sg_tensor_upload(n->bnv->value, bnv), "restore");
        l[sgn] = loss_of(n, r);
    }
    v[i] = saved;
    t_ok(sg_tensor_upload(t, v), "restore");
    return (l[0] - l[1]) / (2.0 * eps);
}

/* Compare the tape's gradient of tensor t with finite differences at about 12
 * points. A point where eps and eps/2 disagree sits on a LeakyReLU or max-pool
 * kink, where the derivative does not exist: it is skipped, and at most 2 may be. */
static void check_gradient(net *n, const char *what, sg_tensor *t, const float *grad, const float *r,
                           const float *bnm, const float *bnv)
{
    size_t count = sg_tensor_count(t), step = count > 12 ? count / 12 : 1;
    float *v = t_download(t);
    int kinks = 0, bad = 0;
    double wn = 0, wa = 0, worst = -1e30;
    for (size_t i = step / 2; i < count; i += step) {
        double num = numeric(n, t, v, i, 2e-3f, r, bnm, bnv);
        double half = numeric(n, t, v, i, 1e-3f, r, bnm, bnv);
        double tol = 5e-3 + 3e-2 * fabs(num);
        if (fabs(num - half) > tol) {
            kinks++;
            continue;
        }
        double err = fabs(num - grad[i]) - tol;
        if (err > worst) {
            worst = err;
            wn = num;
            wa = grad[i];
        }
        bad += err > 0;
    }
    t_check(bad == 0 && kinks <= 2, "graph gradient of %s vs finite differences (worst: numeric %.5g, tape %.5g; "
            "%d kink points skipped)", what, wn, wa, kinks);
    free(v);
}

/* One training graph's forward and backward from seed r into out's gradient;
 * returns the output, the input's gradient and every parameter gradient, one
 * after the other (free it). The running statistics are put back afterwards. */
static float *run_bn_relu(net *n, bool fused, const float *r, const float *bnm, const float *bnv, unsigned *dispatches)
{
    sg_conv2d k3 = {3, 3, 1, 1, 1};
    sg_seq *fwd, *bwd;
    sg_graph *g;
    t_ok(sg_seq_create(t_dev, &fwd), "seq");
    t_ok(sg_seq_create(t_dev, &bwd), "seq");
    t_ok(sg_graph_create(t_dev, fwd, true, &g), "graph");
    sg_node *in = sg_graph_input(g, n->x, true), *out;
    if (fused)
        out = sg_graph_conv_bn(g, in, &k3, false, n->c1w, n->c1b, n->bnw, n->bnb, n->bnm, n->bnv, true, 0.0f);
    else
        out = sg_graph_activation(g, sg_graph_batchnorm(g, sg_graph_conv(g, in, &k3, n->c1w, n->c1b), n->bnw, n->bnb,
                                                        n->bnm, n->bnv),
                                  SG_ACT_RELU, 0.0f);
    t_ok(sg_graph_status(g), "graph build");
    sg_tensor *tr = t_tensor(sg_tensor_shape(out->value), r);
    t_ok(sg_fill(bwd, n->params.grads, 0.0f), "zero param grads");
    t_ok(sg_graph_zero_grads(g, bwd), "zero node grads");
    t_ok(sg_axpy(bwd, 1.0f, tr, out->grad), "seed");
    t_ok(sg_graph_backward(g, bwd), "backward");
    *dispatches = sg_seq_dispatch_count(fwd) + sg_seq_dispatch_count(bwd);
    t_ok(sg_seq_run(fwd), "forward");
    t_ok(sg_seq_run(bwd), "backward");
    size_t ny = sg_tensor_count(out->value), nx = sg_tensor_count(n->x), np = sg_tensor_count(n->params.grads);
    float *all = t_alloc(ny + nx + np);
    t_ok(sg_tensor_download(out->value, all), "out");
    t_ok(sg_tensor_download(in->grad, all + ny), "dx");
    t_ok(sg_tensor_download(n->params.grads, all + ny + nx), "param grads");
    t_ok(sg_tensor_upload(n->bnm->value, bnm), "restore");
    t_ok(sg_tensor_upload(n->bnv->value, bnv), "restore");
    sg_graph_destroy(g);
    sg_seq_destroy(fwd);
    sg_seq_destroy(bwd);
    sg_tensor_destroy(tr);
    return all;
}

/* A training graph records conv -> batch norm -> ReLU with the activation in
 * the batch norm's kernels: the same output and gradients, bit for bit, as the
 * three ops recorded alone (the same arithmetic per value), in 2 dispatches
 * fewer (the activation's forward and backward). */
static void test_bn_act_fused(net *n, const float *bnm, const float *bnv)
{
    size_t ny = 2 * 8 * 6 * 6, count = ny + sg_tensor_count(n->x) + sg_tensor_count(n->params.grads);
    float *r = t_alloc(ny);
    t_random(r, ny, -1, 1, 77);
    unsigned fused_dispatches, alone_dispatches;
    float *fused = run_bn_relu(n, true, r, bnm, bnv, &fused_dispatches);
    float *alone = run_bn_relu(n, false, r, bnm, bnv, &alone_dispatches);
    size_t differ = 0, zeros = 0;
    for (size_t i = 0; i < count; i++) {
        differ += memcmp(&fused[i], &alone[i], sizeof(float)) != 0;
        zeros += i < ny && alone[i] == 0.0f;
    }
    t_check(differ == 0 && zeros > ny / 8 && zeros < ny - ny / 8,
            "conv -> batch norm + ReLU fused: output and gradients identical to the ops alone (%zu of %zu "
            "values differ; %zu of %zu outputs cut by the ReLU)", differ, count, zeros, ny);
    t_check(fused_dispatches + 2 == alone_dispatches, "fused: %u dispatches, alone: %u (want 2 fewer)",
            fused_dispatches, alone_dispatches);
    free(r);
    free(fused);
    free(alone);
}

/* Whether t holds k * r, to a float's rounding. */
static bool holds(const sg_tensor *t, const float *r, float k)
{
    float *v = t_download(t);
    bool same = true;
    for (size_t i = 0; i < sg_tensor_count(t); i++)
        same = same && fabsf(v[i] - k * r[i]) <= 1e-6f * fabsf(k * r[i]);
    free(v);
    return same;
}

/* An add's input read by nothing else shares the add's output gradient (its
 * backward copies nothing); one read elsewhere too, the same node added to
 * itself and the caller's input node keep their own. */
static void test_add_shared_grads(const sg_tensor *like)
{
    sg_shape xs = sg_tensor_shape(like);
    size_t n = sg_tensor_count(like);
    float *pos = t_alloc(n), *r = t_alloc(n);
    t_random(pos, n, 1, 2, 50); /* ReLU's derivative 1 everywhere */
    t_random(r, n, -1, 1, 51);
    sg_tensor *x = t_tensor(xs, pos), *tr = t_tensor(xs, r);
    sg_seq *fwd, *bwd;
    sg_graph *g;
    t_ok(sg_seq_create(t_dev, &fwd), "seq");
    t_ok(sg_seq_create(t_dev, &bwd), "seq");
    t_ok(sg_graph_create(t_dev, fwd, true, &g), "graph");
    sg_node *in = sg_graph_input(g, x, true);
    sg_node *a = sg_graph_activation(g, in, SG_ACT_RELU, 0.0f), *b = sg_graph_activation(g, in, SG_ACT_RELU, 0.0f);
    sg_node *s1 = sg_graph_add(g, a, b);                       /* a, b: shared */
    sg_node *c = sg_graph_activation(g, in, SG_ACT_RELU, 0.0f);
    sg_node *s2 = sg_graph_add(g, s1, c);                      /* s1, c: shared (a chain of sums) */
    sg_node *d = sg_graph_add(g, s2, s2);                      /* s2 read twice: its own */
    sg_node *e = sg_graph_add(g, d, in);                       /* d shared; in, the caller's: its own */
    /* the caller's input read by an add alone keeps its own gradient too: the
     * caller may add into it (here 5 * r), which must not reach the rest */
    sg_node *in2 = sg_graph_input(g, x, true);
    sg_node *f = sg_graph_add(g, e, in2);
    t_ok(sg_graph_status(g), "graph build");
    t_ok(sg_graph_zero_grads(g, bwd), "zero grads");
    unsigned zeroing = sg_seq_dispatch_count(bwd);
    t_ok(sg_axpy(bwd, 1.0f, tr, f->grad), "seed");
    t_ok(sg_axpy(bwd, 5.0f, tr, in2->grad), "seed the caller's input");
    t_ok(sg_graph_backward(g, bwd), "backward");
    /* 3 act_backward + 2 axpy into s2 + 1 into in + 1 into in2; alone it was 10 axpy */
    unsigned backward = sg_seq_dispatch_count(bwd) - zeroing - 2;
    t_ok(sg_seq_run(fwd), "forward");
    t_ok(sg_seq_run(bwd), "backward");
    t_check(backward == 7, "shared add gradients: the backward records %u dispatches (want 7: no axpy into a "
            "shared gradient)", backward);
    t_check(holds(in2->grad, r, 6) && holds(e->grad, r, 1) && holds(d->grad, r, 1) && holds(s2->grad, r, 2) && holds(s1->grad, r, 2) && holds(c->grad, r, 2) &&
                holds(a->grad, r, 2) && holds(b->grad, r, 2) && holds(in->grad, r, 7),
            "shared add gradients: every node's gradient is what the adds pass on (in: 1 + 3 * 2 times the seed)");
    /* replayed: the shared tensors are zeroed with the rest */
    t_ok(sg_seq_run(bwd), "backward again");
    t_check(holds(in->grad, r, 7) && holds(a->grad, r, 2), "shared add gradients: the same after a replay");
    sg_graph_destroy(g);
    sg_seq_destroy(fwd);
    sg_seq_destroy(bwd);
    sg_tensor_destroy(x);
    sg_tensor_destroy(tr);
    free(pos);
    free(r);
}

/* Whether every value of t is 0. */
static bool all_zero(const sg_tensor *t)
{
    float *v = t_download(t);
    bool zero = true;
    for (size_t i = 0; i < sg_tensor_count(t); i++)
        zero = zero && v[i] == 0.0f;
    free(v);
    return zero;
}

/* Node gradients live in one tensor made at the first sg_graph_zero_grads, so
 * zeroing them is one dispatch (a training step had one fill per node); a node
 * recorded after that gets a gradient of its own, zeroed by one more fill. */
static void test_grad_arena(sg_tensor *x)
{
    sg_seq *fwd, *zero, *zero_again;
    sg_graph *g;
    t_ok(sg_seq_create(t_dev, &fwd), "seq");
    t_ok(sg_graph_create(t_dev, fwd, true, &g), "graph");
    sg_node *in = sg_graph_input(g, x, true);
    sg_node *a = sg_graph_activation(g, in, SG_ACT_RELU, 0.0f);
    sg_node *b = sg_graph_add(g, a, in);
    sg_node *c = sg_graph_maxpool2x2(g, b);
    t_check(a && b && c && !in->grad && !a->grad && !c->grad, "no node gradient before zero_grads");
    t_ok(sg_seq_create(t_dev, &zero), "seq");
    t_ok(sg_graph_zero_grads(g, zero), "zero grads");
    t_check(sg_seq_dispatch_count(zero) == 1, "the gradients of 4 nodes zeroed by %u dispatches (want 1)",
            sg_seq_dispatch_count(zero));
    sg_node *late = sg_graph_upsample2x(g, c);
    t_ok(sg_seq_create(t_dev, &zero_again), "seq");
    t_ok(sg_graph_zero_grads(g, zero_again), "zero grads again");
    t_check(late && late->grad && sg_seq_dispatch_count(zero_again) == 2,
            "a node recorded after zero_grads has its own gradient, zeroed by one more fill (%u dispatches)",
            sg_seq_dispatch_count(zero_again));
    sg_node *all[] = {in, a, b, c, late};
    for (int i = 0; i < 5; i++) {
        float *v = t_alloc(sg_tensor_count(all[i]->grad));
        t_random(v, sg_tensor_count(all[i]->grad), 1, 2, 40 + i);
        t_ok(sg_tensor_upload(all[i]->grad, v), "stale gradient");
        free(v);
    }
    t_ok(sg_seq_run(zero_again), "zero");
    bool zeroed = true;
    for (int i = 0; i < 5; i++)
        zeroed = zeroed && all_zero(all[i]->grad);
    t_check(zeroed, "every node gradient zeroed");
    sg_graph_destroy(g);
    sg_seq_destroy(fwd);
    sg_seq_destroy(zero);
    sg_seq_destroy(zero_again);
}

int main(void)
{
    t_begin("graph");
    net n = {0};
    sg_params_init(&n.params, t_dev);
    n.c1w = declare(&n, "c1.weight", 4, 8, 3, 3, 3, SG_INIT_WEIGHT, true);
    n.c1b = declare(&n, "c1.bias", 1, 8, 0, 0, 0, SG_INIT_ZERO, true);
    n.bnw = declare(&n, "bn.weight", 1, 8, 0, 0, 0, SG_INIT_BN_WEIGHT, true);
    n.bnb = declare(&n, "bn.bias", 1, 8, 0, 0, 0, SG_INIT_ZERO, true);
    n.bnm = declare(&n, "bn.running_mean", 1, 8, 0, 0, 0, SG_INIT_ZERO, false);
    n.bnv = declare(&n, "bn.running_var", 1, 8, 0, 0, 0, SG_INIT_ONE, false);
    n.fc1 = declare(&n, "se.fc1.weight", 2, 4, 8, 0, 0, SG_INIT_WEIGHT, true);
    n.fc2 = declare(&n, "se.fc2.weight", 2, 8, 4, 0, 0, SG_INIT_WEIGHT, true);
    n.ctw = declare(&n, "up.weight", 4, 8, 4, 4, 4, SG_INIT_WEIGHT, true);
    n.ctb = declare(&n, "up.bias", 1, 4, 0, 0, 0, SG_INIT_ZERO, true);
    n.bn2w = declare(&n, "bn2.weight", 1, 8, 0, 0, 0, SG_INIT_BN_WEIGHT, true);
    n.bn2b = declare(&n, "bn2.bias", 1, 8, 0, 0, 0, SG_INIT_ZERO, true);
    n.bn2m = declare(&n, "bn2.running_mean", 1, 8, 0, 0, 0, SG_INIT_ZERO, false);
    n.bn2v = declare(&n, "bn2.running_var", 1, 8, 0, 0, 0, SG_INIT_ONE, false);
    n.c2w = declare(&n, "head.weight", 4, 3, 12, 1, 1, SG_INIT_WEIGHT, true);
    t_check(sg_params_declare(&n.params, "c1.weight", 1, (int64_t[]){1}, true, SG_INIT_ZERO) == NULL,
            "duplicate parameter name refused: %s", sg_error_message());
    t_ok(sg_params_allocate(&n.params), "allocate");
    t_ok(sg_params_initialize(&n.params, 7), "initialize");
    /* larger weights than N(0,0.02) so that every path contributes visibly */
    for (size_t i = 0; i < n.params.count; i++) {
        sg_param *p = n.params.items[i];
        if (p->init == SG_INIT_WEIGHT || p->init == SG_INIT_ZERO) {
            if (!p->trainable)
                continue;
            float *h = t_alloc(p->count);
            t_random(h, p->count, -0.6f, 0.6f, 100 + i);
            t_ok(sg_tensor_upload(p->value, h), "weights");
            free(h);
        }
    }
    size_t nx = 2 * 3 * 6 * 6;
    float *x = t_alloc(nx);
    t_random(x, nx, -1, 1, 5);
    n.x = t_tensor(sg_shape4(2, 3, 6, 6), x);
    build(&n, true);

    /* backward of loss = sum(r * out): seed out's gradient with r */
    size_t ny = sg_tensor_count(n.out->value);
    float *r = t_alloc(ny);
    t_random(r, ny, -1, 1, 9);
    sg_tensor *tr = t_tensor(sg_tensor_shape(n.out->value), r);
    t_ok(sg_seq_create(t_dev, &n.bwd), "bwd seq");
    t_ok(sg_fill(n.bwd, n.params.grads, 0.0f), "zero param grads");
    t_ok(sg_graph_zero_grads(n.graph, n.bwd), "zero node grads");
    t_ok(sg_axpy(n.bwd, 1.0f, tr, n.out->grad), "seed");
    t_ok(sg_graph_backward(n.graph, n.bwd), "backward");

    float *bnm = t_download(n.bnm->value), *bnv = t_download(n.bnv->value);
    t_ok(sg_seq_run(n.fwd), "forward");
    t_ok(sg_seq_run(n.bwd), "backward");
    t_ok(sg_tensor_upload(n.bnm->value, bnm), "restore");
    t_ok(sg_tensor_upload(n.bnv->value, bnv), "restore");

    sg_param *check[] = {n.c1w, n.c1b, n.bnw, n.bnb, n.fc1, n.fc2, n.ctw, n.ctb, n.bn2w, n.bn2b, n.c2w};
    for (size_t i = 0; i < sizeof check / sizeof check[0]; i++) {
        float *gr = t_download(check[i]->grad);
        check_gradient(&n, check[i]->name, check[i]->value, gr, r, bnm, bnv);
        free(gr);
    }

    /* the input gradient too */
    float *gx = t_download(n.in->grad);
    check_gradient(&n, "the input", n.x, gx, r, bnm, bnv);

    /* backward for the nodes alone: the same input gradient, bit for bit, and
     * no parameter gradient touched (they stay zero) */
    sg_seq *inputs_only;
    t_ok(sg_seq_create(t_dev, &inputs_only), "seq");
    t_ok(sg_fill(inputs_only, n.params.grads, 0.0f), "zero param grads");
    t_ok(sg_graph_zero_grads(n.graph, inputs_only), "zero node grads");
    t_ok(sg_axpy(inputs_only, 1.0f, tr, n.out->grad), "seed");
    t_ok(sg_graph_backward_inputs(n.graph, inputs_only), "backward, nodes only");
    t_ok(sg_seq_run(n.fwd), "forward");
    t_ok(sg_seq_run(inputs_only), "backward, nodes only");
    t_ok(sg_tensor_upload(n.bnm->value, bnm), "restore");
    t_ok(sg_tensor_upload(n.bnv->value, bnv), "restore");
    float *gx_only = t_download(n.in->grad);
    t_check(memcmp(gx_only, gx, sg_tensor_count(n.x) * sizeof *gx) == 0 && all_zero(n.params.grads),
            "backward for the nodes alone: the input gradient of the full backward, parameter gradients untouched");
    free(gx_only);
    sg_seq_destroy(inputs_only);

    /* an eval graph records no tape and refuses backward */
    sg_seq *eseq;
    sg_graph *eg;
    t_ok(sg_seq_create(t_dev, &eseq), "eval seq");
    t_ok(sg_graph_create(t_dev, eseq, false, &eg), "eval graph");
    sg_node *ein = sg_graph_input(eg, n.x, true);
    sg_node *eo = sg_graph_batchnorm(eg, sg_graph_conv(eg, ein, &(sg_conv2d){3, 3, 1, 1, 1}, n.c1w, n.c1b), n.bnw, n.bnb,
                              n.bnm, n.bnv);
    t_check(eo && !eo->grad && !ein->grad, "eval graph keeps no gradients");
    t_check(sg_graph_backward(eg, eseq) == SG_ERR_STATE, "backward through an eval graph refused");
    t_check(sg_graph_conv(eg, NULL, &(sg_conv2d){3, 3, 1, 1, 1}, n.c1w, NULL) == NULL &&
                sg_graph_status(eg) == SG_ERR_ARGUMENT,
            "a NULL input makes the graph fail (sticky status)");
    sg_graph_destroy(eg);
    sg_seq_destroy(eseq);
    test_grad_arena(n.x);
    test_bn_act_fused(&n, bnm, bnv);
    test_add_shared_grads(n.x);

    sg_graph_destroy(n.graph);
    sg_seq_destroy(n.fwd);
    sg_seq_destroy(n.bwd);
    sg_tensor_destroy(tr);
    sg_tensor_destroy(n.x);
    sg_params_free(&n.params);
    free(x);
    free(r);
    free(gx);
    free(bnm);
    free(bnv);
    return t_end();
}
