/* Skips left out (sg_model_config.dropped_skips) and the reconstruction-only
 * step (w_adv = w_lat = 0): the option's text, its checkpoint (format version 2,
 * refused where it does not belong), and a step that leaves D out while G moves
 * exactly as the full step moves it when nothing of D reaches G. (The networks'
 * numbers against PyTorch: the parity test's case with skips 1,2 left out.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/model.h"
#include "sgad/safetensors.h"

static char *dir;

/* a path in this test's folder */
static const char *path_in(const char *name) { return t_path_in(dir, name); }

static void test_parse(void)
{
    unsigned m = 99;
    char text[16];
    bool ok = !sg_skips_parse("1,2", &m);
    t_check(ok && m == 3, "'1,2' is levels 1 and 2 (mask %u)", m);
    ok = !sg_skips_parse("3,1", &m);
    t_check(ok && m == 5, "'3,1' is levels 1 and 3 (mask %u)", m);
    t_check(!sg_skips_parse("none", &m) && m == 0 && !sg_skips_parse("", &m) && m == 0, "'none' and '' keep every skip");
    const char *bad[] = {"4", "0", "1,,2", "1,1", "12", "1,", ",1", "a", "1 2", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        m = 77;
        t_check(sg_skips_parse(bad[i], &m) != NULL && m == 77, "'%s' refused, mask untouched", bad[i]);
    }
    sg_skips_describe(6, text, sizeof text);
    t_check(!strcmp(text, "2,3"), "mask 6 reads '2,3' (%s)", text);
    sg_skips_describe(0, text, sizeof text);
    t_check(!strcmp(text, "none"), "mask 0 reads 'none' (%s)", text);
    sg_model_config c = sg_model_config_default();
    c.dropped_skips = 8;
    t_check(sg_model_config_check(&c) != NULL, "a level above 3 is not a configuration");
    c.dropped_skips = 1;
    c.arch = SG_ARCH_SKIPGANOMALY;
    t_check(sg_model_config_check(&c) != NULL, "the U-Net baseline has no skips to leave out");
}

static sg_model *small_model(unsigned dropped, uint64_t seed)
{
    sg_model_config c = sg_model_config_default();
    c.width = 0.25f;
    c.dropped_skips = dropped;
    sg_model *m;
    t_ok(sg_model_create(t_dev, &c, seed, &m), "model");
    return m;
}

static const char *meta(const sg_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->meta_count; i++)
        if (!strcmp(f->meta_keys[i], key))
            return f->meta_values[i];
    return NULL;
}

/* The file with one metadata value replaced (NULL: the key left out). */
static void rewrite(const sg_st_file *st, const char *path, const char *key, const char *value)
{
    const char *keys[64], *vals[64];
    size_t n = 0;
    for (size_t i = 0; i < st->meta_count; i++) {
        if (!strcmp(st->meta_keys[i], key) && !value)
            continue;
        keys[n] = st->meta_keys[i];
        vals[n++] = !strcmp(st->meta_keys[i], key) ? value : st->meta_values[i];
    }
    bool found = false;
    for (size_t i = 0; i < st->meta_count; i++)
        found |= !strcmp(st->meta_keys[i], key);
    if (!found && value) {
        keys[n] = key;
        vals[n++] = value;
    }
    t_ok(sg_st_write(path, st->tensors, st->count, keys, vals, n), "rewrite");
}

static void test_checkpoint(void)
{
    sg_model *m = small_model(3, 1), *back = NULL, *none = NULL;
    t_ok(sg_model_save(m, path_in("skips.safetensors")), "save");
    t_ok(sg_model_load(t_dev, path_in("skips.safetensors"), &back), "load");
    t_check(sg_model_get_config(back)->dropped_skips == 3, "the dropped skips survive a save and a load");
    sg_st_file st;
    t_ok(sg_st_read(path_in("skips.safetensors"), &st), "read");
    t_check(meta(&st, "dropped_skips") && !strcmp(meta(&st, "dropped_skips"), "1,2") &&
                !strcmp(meta(&st, "format_version"), "2"),
            "written as dropped_skips '1,2' in a format version 2 file (%s, %s)", meta(&st, "dropped_skips"),
            meta(&st, "format_version"));

    rewrite(&st, path_in("v1.safetensors"), "format_version", "1");
    t_check(sg_model_load(t_dev, path_in("v1.safetensors"), &none) == SG_ERR_FORMAT &&
                strstr(sg_error_message(), "dropped_skips"),
            "dropped skips in a version 1 file refused: %s", sg_error_message());
    rewrite(&st, path_in("nokey.safetensors"), "dropped_skips", NULL);
    t_check(sg_model_load(t_dev, path_in("nokey.safetensors"), &none) == SG_ERR_FORMAT &&
                strstr(sg_error_message(), "missing"),
            "a version 2 file without dropped_skips refused: %s", sg_error_message());
    rewrite(&st, path_in("bad.safetensors"), "dropped_skips", "1,4");
    t_check(sg_model_load(t_dev, path_in("bad.safetensors"), &none) == SG_ERR_FORMAT &&
                strstr(sg_error_message(), "1,4"),
            "dropped_skips '1,4' refused: %s", sg_error_message());
    rewrite(&st, path_in("zero.safetensors"), "dropped_skips", "none");
    t_check(sg_model_load(t_dev, path_in("zero.safetensors"), &none) == SG_ERR_FORMAT,
            "a version 2 file leaving no skip out refused: %s", sg_error_message());
    rewrite(&st, path_in("v3.safetensors"), "format_version", "3");
    t_check(sg_model_load(t_dev, path_in("v3.safetensors"), &none) == SG_ERR_FORMAT &&
                strstr(sg_error_message(), "version 3"),
            "format version 3 refused: %s", sg_error_message());
    t_check(none == NULL, "no model returned on a refusal");
    sg_st_free(&st);

    sg_model *spec = small_model(0, 1);
    t_ok(sg_model_save(spec, path_in("spec.safetensors")), "save spec");
    t_ok(sg_st_read(path_in("spec.safetensors"), &st), "read spec");
    t_check(!meta(&st, "dropped_skips") && !strcmp(meta(&st, "format_version"), "1"),
            "the spec's generator is still written as format version 1, without the key");
    sg_st_free(&st);
    sg_model_destroy(spec);
    sg_model_destroy(back);
    sg_model_destroy(m);
}

/* Every tensor of the file whose name starts with prefix, byte for byte. */
static bool same_tensors(const char *a, const char *b, const char *prefix, bool want_same, size_t *compared)
{
    sg_st_file x, y;
    t_ok(sg_st_read(a, &x), "read a");
    t_ok(sg_st_read(b, &y), "read b");
    bool all_same = x.count == y.count, any_diff = false;
    *compared = 0;
    for (size_t i = 0; i < x.count && i < y.count; i++) {
        if (strncmp(x.tensors[i].name, prefix, strlen(prefix)) != 0)
            continue;
        bool same = !strcmp(x.tensors[i].name, y.tensors[i].name) && x.tensors[i].nbytes == y.tensors[i].nbytes &&
                    !memcmp(x.tensors[i].data, y.tensors[i].data, x.tensors[i].nbytes);
        all_same &= same;
        any_diff |= !same;
        (*compared)++;
    }
    sg_st_free(&x);
    sg_st_free(&y);
    return want_same ? all_same : any_diff;
}

static void test_reconstruction_step(void)
{
    enum { BATCH = 4, STEPS = 2 };
    float *images = t_random_array((size_t)BATCH * 3 * 32 * 32, -1, 1, 5);
    sg_model *recon = small_model(3, 7), *full = small_model(3, 7);
    t_ok(sg_model_save(recon, path_in("init.safetensors")), "save init");
    sg_train_config rc = sg_train_config_default(), fc = sg_train_config_default();
    rc.batch = fc.batch = BATCH;
    rc.lr = fc.lr = 1e-3f;
    rc.w_adv = rc.w_lat = 0;
    sg_trainer *rt, *ft;
    t_ok(sg_trainer_create(recon, &rc, &rt), "reconstruction-only trainer");
    t_ok(sg_trainer_create(full, &fc, &ft), "full trainer");
    /* the full step with nothing of D reaching G: the warm-up factor 0 */
    t_ok(sg_trainer_set_warmup(ft, 0.0f), "warm-up 0");
    sg_train_losses lr = {0}, lf = {0};
    bool ok;
    for (int s = 0; s < STEPS; s++) {
        t_ok(sg_trainer_step(rt, images, &lr), "reconstruction step");
        t_ok(sg_trainer_step(ft, images, &lf), "full step");
        t_check(lr.g_con == lf.g_con, "step %d: the same reconstruction loss (%.7f, %.7f)", s, lr.g_con, lf.g_con);
    }
    t_check(!lr.adversarial && lf.adversarial && lr.g_adv == 0 && lr.g_lat == 0 && lr.d_total == 0 &&
                lr.g_total == rc.w_con * lr.g_con,
            "the losses say the step was reconstruction only (G %g = 50 x %g)", lr.g_total, lr.g_con);
    t_check(sg_model_training_state(recon)->step == STEPS, "the step count advances");
    t_ok(sg_model_save(recon, path_in("recon.safetensors")), "save recon");
    t_ok(sg_model_save(full, path_in("full.safetensors")), "save full");
    size_t n;
    ok = same_tensors(path_in("recon.safetensors"), path_in("full.safetensors"), "G.", true, &n);
    t_check(ok && n > 50, "G's weights and statistics after %d steps are the full step's bit for bit (%zu tensors)",
            STEPS, n);
    ok = same_tensors(path_in("recon.safetensors"), path_in("full.safetensors"), "adam.G.", true, &n);
    t_check(ok && n > 50, "and G's Adam moments (%zu tensors)", n);
    ok = same_tensors(path_in("recon.safetensors"), path_in("init.safetensors"), "D.", true, &n);
    t_check(ok && n > 10, "D is left as it was: weights and statistics (%zu tensors)", n);
    ok = same_tensors(path_in("full.safetensors"), path_in("init.safetensors"), "D.", false, &n);
    t_check(ok, "while the full step trained D (the comparison can fail)");
    sg_trainer_destroy(rt);
    sg_trainer_destroy(ft);
    sg_model_destroy(recon);
    sg_model_destroy(full);
    free(images);
}

int main(void)
{
    t_begin("skips");
    dir = t_tmpdir("sgad-test-skips");
    test_parse();
    test_checkpoint();
    test_reconstruction_step();
    return t_end();
}
