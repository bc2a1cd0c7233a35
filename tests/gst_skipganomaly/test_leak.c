/* Leak check of the element's start/stop path: a scoring pipeline goes
 * NULL -> PLAYING -> NULL 100 times, each time loading the model, acquiring
 * the pooled device, scoring one 32x32 frame and releasing it all. Then
 * LeakSanitizer (this program is linked with -fsanitize=leak, see meson.build)
 * must find no unreachable host memory, and after every cycle the device must
 * hold no tensor memory.
 *
 * Why LeakSanitizer and not valgrind: under memcheck lavapipe compiles every
 * shader with LLVM inside the instrumented process; the first frame took over
 * 120 s and the JIT-ed code crashed memcheck. LSan only replaces malloc, so a
 * cycle costs what it costs natively (under 1 s on lavapipe, 80 s in all).
 * lsan.supp names the driver's one-time leak. */
#include "common.h"
#include "skipganomaly/device_pool.h"

#define CYCLES 100

/* Provided by the LeakSanitizer runtime when it is linked in (weak: NULL otherwise). */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* Play until EOS; returns how many frames the element scored. */
static guint play_once(GstElement *pipeline, gint cycle)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE, "cycle %d", cycle);
    guint scored = 0;
    gboolean eos = FALSE;
    while (!eos) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                                   GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
        fail_unless(m != NULL, "cycle %d: no EOS within 60 s", cycle);
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
            GError *err = NULL;
            gchar *dbg = NULL;
            gst_message_parse_error(m, &err, &dbg);
            fail("cycle %d: %s (%s)", cycle, err->message, dbg);
        }
        eos = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
        if (gst_message_has_name(m, "skipganomaly"))
            scored++;
        gst_message_unref(m);
    }
    fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(bus);
    return scored;
}

GST_START_TEST(test_leak_cycles)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5);
    /* the smallest frame the model takes: the cycle's cost is start/stop, not scoring */
    gchar *line = g_strdup_printf("videotestsrc num-buffers=1 ! video/x-raw,format=RGB,width=32,height=32 ! "
                                  "skipganomaly model=\"%s\" post-messages=true ! fakesink",
                                  path);
    GError *err = NULL;
    GstElement *pipeline = gst_parse_launch(line, &err);
    fail_unless(pipeline != NULL, "%s", err ? err->message : "?");

    /* cycle 0 alone: the element creates the pooled device and destroys it at stop */
    fail_unless_equals_int(play_once(pipeline, 0), 1);
    /* then the test holds a second reference to the pool entry, as another
     * instance would: cycles 1..99 still acquire and release it, load the model,
     * record the scorer and score, without compiling every shader on a new
     * device. Holding it also shows that each stop gave all device memory back
     * (Vulkan buffers are the driver's allocations, which LSan does not check). */
    sg_device *dev = NULL;
    fail_unless(sgad_device_pool_acquire(NULL, &dev) == SG_OK, "%s", sg_error_message());
    for (gint i = 1; i < CYCLES; i++) {
        fail_unless_equals_int(play_once(pipeline, i), 1);
        fail_unless(sg_device_bytes_in_use(dev) == 0, "cycle %d left %" G_GUINT64_FORMAT " bytes of device memory", i,
                    sg_device_bytes_in_use(dev));
    }
    sgad_device_pool_release(dev);
    gst_object_unref(pipeline);
    g_free(line);
    g_free(path);
    test_device_check();

    /* the report (stacks of each leaked block) goes to stderr */
    fail_if(__lsan_do_recoverable_leak_check(), "LeakSanitizer found leaks after %d cycles: see its report above",
            CYCLES);
}
GST_END_TEST;

static Suite *skipganomaly_leak_suite(void)
{
    Suite *s = suite_create("skipganomaly-leak");
    TCase *tc = tcase_create("leak");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, NULL, test_dir_remove);
    suite_add_tcase(s, tc);
    ADD_TEST(tc, test_leak_cycles);
    return s;
}

int main(int argc, char **argv)
{
    if (!__lsan_do_recoverable_leak_check) {
        /* meson links LSan whenever the compiler can: only a toolchain without it lands here */
        g_print("built without LeakSanitizer (-fsanitize=leak): skipped\n");
        return 77; /* meson's "skipped" */
    }
    g_setenv("GST_CHECKS", "test_leak_cycles", TRUE);
    gst_check_init(&argc, &argv);
    SGAD_TEST_REGISTER_PLUGIN();
    return gst_check_run_suite(skipganomaly_leak_suite(), "skipganomaly", __FILE__) ? 1 : 0;
}
