/* anomalypublish against a real mosquitto broker that each test starts on a
 * free localhost port (and stops): every frame arrives once at QoS 1 with the
 * expected fields; a broker stopped and restarted mid-stream loses no message
 * the queue could hold; a wrong password is a clear error; an unreachable
 * broker never stops the video and the queue's overflow and loss are counted.
 *
 * The subscriber is a libmosquitto client with a persistent session (clean
 * session off, QoS 1), so the broker keeps what arrives while it is away. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <mosquitto.h>

#define TOPIC "sgad/test/line1"
#define FRAMES 40

static gchar *dir;
static guint port;
static GPid broker = 0;

static guint free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    fail_unless(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t len = sizeof a;
    fail_unless(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static gboolean port_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    gboolean ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static gboolean tls; /* the broker listens with TLS (certificates made by make_certificates) */

static void run_openssl(const gchar *args)
{
    gchar *line = g_strdup_printf("%s %s", OPENSSL, args);
    gchar **argv = NULL;
    fail_unless(g_shell_parse_argv(line, NULL, &argv, NULL));
    gint status = -1;
    gchar *err = NULL;
    fail_unless(g_spawn_sync(dir, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, NULL));
    fail_unless(g_spawn_check_wait_status(status, NULL), "%s: %s", line, err);
    g_free(err);
    g_strfreev(argv);
    g_free(line);
}

/* A certificate authority and a broker certificate for 127.0.0.1 it signed. */
static void make_certificates(void)
{
    run_openssl("req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=sgad-test-ca");
    run_openssl("req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1");
    gchar *ext = g_build_filename(dir, "san.ext", NULL);
    fail_unless(g_file_set_contents(ext, "subjectAltName=IP:127.0.0.1\n", -1, NULL));
    run_openssl("x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 "
                "-extfile san.ext");
    g_free(ext);
    tls = TRUE;
}

/* Write the broker's configuration (with a password file when user is set). */
static const gchar *config_user, *config_password; /* for a rewrite on another port */

static void write_config(const gchar *user, const gchar *password)
{
    config_user = user;
    config_password = password;
    GString *conf = g_string_new(NULL);
    g_string_append_printf(conf, "listener %u 127.0.0.1\npersistence true\npersistence_location %s/\n", port, dir);
    /* its log says whether this broker bound the port (another test's may hold it) */
    g_string_append_printf(conf, "log_dest file %s/broker.log\n", dir);
    /* run as root, mosquitto would become user "mosquitto", who cannot read the test's folder */
    g_string_append_printf(conf, "user %s\n", g_get_user_name());
    if (tls)
        g_string_append_printf(conf, "cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n", dir, dir,
                               dir);
    if (user) {
        gchar *pw = g_build_filename(dir, "passwords", NULL);
        gchar *argv[] = {(gchar *)MOSQUITTO_PASSWD, "-c", "-b", pw, (gchar *)user, (gchar *)password, NULL};
        gint status = -1;
        fail_unless(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                 NULL, NULL, NULL, &status, NULL));
        fail_unless(g_spawn_check_wait_status(status, NULL), "mosquitto_passwd failed");
        g_string_append_printf(conf, "allow_anonymous false\npassword_file %s\n", pw);
        g_free(pw);
    } else {
        g_string_append(conf, "allow_anonymous true\n");
    }
    gchar *path = g_build_filename(dir, "mosquitto.conf", NULL);
    fail_unless(g_file_set_contents(path, conf->str, -1, NULL));
    g_free(path);
    g_string_free(conf, TRUE);
}

/* Whether the broker's log (emptied before each start) says it runs. */
static gboolean broker_log_says_running(void)
{
    gchar *path = g_build_filename(dir, "broker.log", NULL), *log = NULL;
    gboolean running = g_file_get_contents(path, &log, NULL, NULL) && strstr(log, " running");
    g_free(log);
    g_free(path);
    return running;
}

/* Start mosquitto and wait until it listens. free_port() only found a port
 * free at that moment: when another process (a parallel test's broker) took it
 * since, our broker exits with "Address already in use", and connecting to the
 * port would reach the other broker. Before any pipeline knows the port
 * (may_move), the test moves to another one. */
static void broker_start_on(gboolean may_move)
{
    gchar *conf = g_build_filename(dir, "mosquitto.conf", NULL);
    gchar *log = g_build_filename(dir, "broker.log", NULL);
    gchar *argv[] = {(gchar *)MOSQUITTO, "-c", conf, NULL};
    gboolean running = FALSE;
    for (gint attempt = 0; attempt < 5 && !running; attempt++) {
        fail_unless(g_file_set_contents(log, "", 0, NULL));
        GError *err = NULL;
        fail_unless(g_spawn_async(NULL, argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                  NULL, NULL, &broker, &err),
                    "cannot start %s: %s", MOSQUITTO, err ? err->message : "?");
        gboolean exited = FALSE;
        for (gint i = 0; i < 1000 && !running && !exited; i++) {
            g_usleep(10000);
            running = broker_log_says_running();
            exited = !running && waitpid(broker, NULL, WNOHANG) == broker;
        }
        if (exited) {
            g_spawn_close_pid(broker);
            broker = 0;
            fail_unless(may_move, "mosquitto could not listen on port %u again", port);
            port = free_port();
            write_config(config_user, config_password);
        }
    }
    fail_unless(running, "mosquitto did not start on port %u (log %s)", port, log);
    fail_unless(port_open(), "mosquitto did not listen on port %u", port);
    g_free(log);
    g_free(conf);
}

static void broker_start(void)
{
    broker_start_on(TRUE);
}

/* SIGTERM: mosquitto saves its persistent sessions and their queued messages */
static void broker_stop(void)
{
    if (!broker)
        return;
    kill(broker, SIGTERM);
    waitpid(broker, NULL, 0);
    g_spawn_close_pid(broker);
    broker = 0;
}

static void setup(void)
{
    tls = FALSE;
    dir = g_dir_make_tmp("sgad-mqtt-XXXXXX", NULL);
    fail_unless(dir != NULL);
    port = free_port();
}

static void teardown(void)
{
    broker_stop();
    gchar *argv[] = {"rm", "-rf", dir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(dir);
}

/* ---- the subscriber ------------------------------------------------------- */

typedef struct {
    GMutex lock;
    GCond cond;
    GPtrArray *messages; /* gchar* payloads */
    gboolean subscribed;
    struct mosquitto *mosq;
} Subscriber;

static void sub_on_connect(struct mosquitto *mosq, void *user, int rc)
{
    (void)user;
    if (rc == 0)
        mosquitto_subscribe(mosq, NULL, TOPIC, 1);
}

static void sub_on_subscribe(struct mosquitto *mosq, void *user, int mid, int n, const int *granted)
{
    (void)mosq;
    (void)mid;
    (void)n;
    (void)granted;
    Subscriber *s = user;
    g_mutex_lock(&s->lock);
    s->subscribed = TRUE;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

static void sub_on_message(struct mosquitto *mosq, void *user, const struct mosquitto_message *m)
{
    (void)mosq;
    Subscriber *s = user;
    g_mutex_lock(&s->lock);
    g_ptr_array_add(s->messages, g_strndup(m->payload, m->payloadlen));
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

static void subscriber_start(Subscriber *s, const gchar *user, const gchar *password)
{
    mosquitto_lib_init();
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    s->messages = g_ptr_array_new_with_free_func(g_free);
    s->mosq = mosquitto_new("sgad-test-subscriber", false, s);
    fail_unless(s->mosq != NULL);
    if (user)
        mosquitto_username_pw_set(s->mosq, user, password);
    if (tls) {
        gchar *ca = g_build_filename(dir, "ca.crt", NULL);
        fail_unless_equals_int(mosquitto_tls_set(s->mosq, ca, NULL, NULL, NULL, NULL), MOSQ_ERR_SUCCESS);
        g_free(ca);
    }
    mosquitto_connect_callback_set(s->mosq, sub_on_connect);
    mosquitto_subscribe_callback_set(s->mosq, sub_on_subscribe);
    mosquitto_message_callback_set(s->mosq, sub_on_message);
    mosquitto_reconnect_delay_set(s->mosq, 1, 1, false);
    fail_unless_equals_int(mosquitto_connect(s->mosq, "127.0.0.1", (int)port, 60), MOSQ_ERR_SUCCESS);
    fail_unless_equals_int(mosquitto_loop_start(s->mosq), MOSQ_ERR_SUCCESS);
    gint64 until = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
    g_mutex_lock(&s->lock);
    while (!s->subscribed && g_cond_wait_until(&s->cond, &s->lock, until))
        ;
    gboolean ok = s->subscribed;
    g_mutex_unlock(&s->lock);
    fail_unless(ok, "the subscriber did not subscribe");
}

/* Wait until frames 0 .. want-1 all arrived (or 60 s); returns how many distinct ones did. */
static guint wait_frames(Subscriber *s, guint want)
{
    gint64 until = g_get_monotonic_time() + 60 * G_TIME_SPAN_SECOND;
    guint distinct = 0;
    gboolean *seen = g_new0(gboolean, want);
    g_mutex_lock(&s->lock);
    for (;;) {
        for (guint i = 0; i < s->messages->len; i++) {
            const gchar *text = g_ptr_array_index(s->messages, i), *f = strstr(text, "\"frame\":");
            if (strstr(text, "\"event\"") || !f)
                continue;
            guint64 frame = g_ascii_strtoull(f + 8, NULL, 10);
            if (frame < want && !seen[frame]) {
                seen[frame] = TRUE;
                distinct++;
            }
        }
        if (distinct >= want || !g_cond_wait_until(&s->cond, &s->lock, until))
            break;
    }
    g_mutex_unlock(&s->lock);
    g_free(seen);
    return distinct;
}

static void subscriber_stop(Subscriber *s)
{
    mosquitto_disconnect(s->mosq);
    mosquitto_loop_stop(s->mosq, true);
    mosquitto_destroy(s->mosq);
    g_ptr_array_unref(s->messages);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
}

/* How often each frame number arrived; checks each frame line's fields. */
static void count_frames(Subscriber *s, guint *seen, guint n, gboolean scored)
{
    memset(seen, 0, n * sizeof *seen);
    for (guint i = 0; i < s->messages->len; i++) {
        const gchar *text = g_ptr_array_index(s->messages, i);
        JsonParser *p = json_parser_new();
        fail_unless(json_parser_load_from_data(p, text, -1, NULL), "not JSON: %s", text);
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        if (json_object_has_member(o, "event")) {
            const gchar *e = json_object_get_string_member(o, "event");
            fail_unless(g_str_equal(e, "anomaly-start") || g_str_equal(e, "anomaly-end"), "event %s", e);
            g_object_unref(p);
            continue;
        }
        gint64 frame = json_object_get_int_member(o, "frame");
        fail_unless(frame >= 0 && frame < n, "frame %" G_GINT64_FORMAT, frame);
        seen[frame]++;
        fail_unless(json_object_has_member(o, "pts") && !json_object_get_null_member(o, "pts"), "%s", text);
        fail_unless_equals_int64(json_object_get_int_member(o, "pts"),
                                 (gint64)gst_util_uint64_scale(frame, GST_SECOND, 30));
        for (const gchar *const *f = (const gchar *const[]){"score", "threshold", "anomalous", NULL}; *f; f++) {
            fail_unless(json_object_has_member(o, *f), "no %s: %s", *f, text);
            fail_unless(json_object_get_null_member(o, *f) == !scored, "%s: %s", *f, text);
        }
        g_object_unref(p);
    }
}

/* ---- pipelines ------------------------------------------------------------ */

typedef struct {
    guint frames_out;
    guint stop_at, restart_at; /* source frames at which the broker goes away and comes back (0: never) */
    guint source_frames;
} Run;

static GstPadProbeReturn count_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    (void)info;
    ((Run *)data)->frames_out++;
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn broker_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    (void)info;
    Run *r = data;
    guint n = r->source_frames++;
    if (n == r->stop_at && r->stop_at)
        broker_stop();
    if (n == r->restart_at && r->restart_at)
        broker_start_on(FALSE); /* the element knows the port */
    return GST_PAD_PROBE_OK;
}

/* Run the pipeline to EOS (or an error: returned, g_free it); stats from the
 * anomalypublish-stats message. */
static gchar *run_pipeline(const gchar *scorer, const gchar *props, Run *r, GstStructure **stats)
{
    gchar *line = g_strdup_printf("inspectionsrc name=src num-buffers=%d ! "
                                  "video/x-raw,format=BGRx,width=64,height=48,framerate=30/1 ! %s ! "
                                  "anomalypublish name=pub host=127.0.0.1 port=%u topic=" TOPIC " %s ! "
                                  "fakesink name=sink sync=false",
                                  FRAMES, scorer, port, props);
    GError *err = NULL;
    GstElement *pipe = gst_parse_launch(line, &err);
    fail_unless(pipe != NULL, "%s: %s", line, err ? err->message : "?");
    g_free(line);
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "src"), *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
    GstPad *src_pad = gst_element_get_static_pad(src, "src"), *sink_pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(src_pad, GST_PAD_PROBE_TYPE_BUFFER, broker_probe, r, NULL);
    gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, r, NULL);
    GstBus *bus = gst_element_get_bus(pipe);
    /* a start that fails posts its error, read below */
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    gchar *error = NULL;
    *stats = NULL;
    for (;;) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND,
                                                   GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
        fail_unless(m != NULL, "no EOS within 300 s");
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
            GError *e = NULL;
            gst_message_parse_error(m, &e, NULL);
            error = g_strdup(e->message);
            g_error_free(e);
            gst_message_unref(m);
            break;
        }
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
            gst_message_unref(m);
            break;
        }
        if (gst_structure_has_name(gst_message_get_structure(m), "anomalypublish-stats"))
            *stats = gst_structure_copy(gst_message_get_structure(m));
        gst_message_unref(m);
    }
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(src_pad);
    gst_object_unref(sink_pad);
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_object_unref(bus);
    gst_object_unref(pipe);
    return error;
}

static guint64 stat(const GstStructure *s, const gchar *name)
{
    guint64 v = G_MAXUINT64;
    fail_unless(s && gst_structure_get_uint64(s, name, &v), "no %s in the stats", name);
    return v;
}

GST_START_TEST(test_every_frame_once)
{
    write_config(NULL, NULL);
    broker_start();
    Subscriber s = {0};
    subscriber_start(&s, NULL, NULL);
    Run r = {0};
    GstStructure *stats;
    gchar *scorer = g_strdup_printf("skipganomaly scoring=sync model=\"%s\"", SGAD_BUNDLED_MODEL);
    gchar *error = run_pipeline(scorer, "qos=1 client-id=sgad-test-line1", &r, &stats);
    fail_unless(error == NULL, "error: %s", error);
    fail_unless_equals_int(r.frames_out, FRAMES);
    fail_unless_equals_int(wait_frames(&s, FRAMES), FRAMES);
    g_usleep(200 * 1000); /* a duplicate would follow its first copy at once */
    guint seen[FRAMES];
    g_mutex_lock(&s.lock);
    count_frames(&s, seen, FRAMES, TRUE);
    const guint messages = s.messages->len;
    g_mutex_unlock(&s.lock);
    for (guint i = 0; i < FRAMES; i++)
        fail_unless_equals_int(seen[i], 1);
    fail_unless_equals_uint64(stat(stats, "frames"), FRAMES);
    fail_unless_equals_uint64(stat(stats, "published"), messages);
    fail_unless_equals_uint64(stat(stats, "dropped"), 0);
    fail_unless_equals_uint64(stat(stats, "undelivered"), 0);
    gst_structure_free(stats);
    g_free(scorer);
    subscriber_stop(&s);
}
GST_END_TEST;

/* The broker stops at frame 10 and comes back at frame 25: the queue (1000)
 * holds what could not be sent meanwhile, and every frame arrives. */
GST_START_TEST(test_broker_restart_loses_nothing)
{
    write_config(NULL, NULL);
    broker_start();
    Subscriber s = {0};
    subscriber_start(&s, NULL, NULL);
    Run r = {.stop_at = 10, .restart_at = 25};
    GstStructure *stats;
    gchar *error = run_pipeline("identity", "qos=1 flush-timeout=60000", &r, &stats);
    fail_unless(error == NULL, "error: %s", error);
    fail_unless_equals_int(r.frames_out, FRAMES);
    fail_unless_equals_int(wait_frames(&s, FRAMES), FRAMES);
    guint seen[FRAMES];
    g_mutex_lock(&s.lock);
    count_frames(&s, seen, FRAMES, FALSE);
    g_mutex_unlock(&s.lock);
    /* at least once: a message sent as the broker went away may come twice */
    for (guint i = 0; i < FRAMES; i++)
        fail_unless(seen[i] >= 1, "frame %u was lost", i);
    fail_unless_equals_uint64(stat(stats, "dropped"), 0);
    fail_unless_equals_uint64(stat(stats, "undelivered"), 0);
    gst_structure_free(stats);
    subscriber_stop(&s);
}
GST_END_TEST;

GST_START_TEST(test_wrong_password)
{
    write_config("line1", "right-secret");
    broker_start();
    Run r = {0};
    GstStructure *stats;
    gchar *error = run_pipeline("identity", "username=line1 password=wrong-secret", &r, &stats);
    fail_unless(error != NULL, "a wrong password gave no error");
    fail_unless(strstr(error, "refused the connection") != NULL, "error: %s", error);
    gchar *where = g_strdup_printf("127.0.0.1:%u", port);
    fail_unless(strstr(error, where) != NULL, "the error does not name the broker: %s", error);
    g_free(where);
    g_free(error);
    if (stats)
        gst_structure_free(stats);
}
GST_END_TEST;

/* Nothing listens: the video goes on; queue-size 5 keeps the last 5 messages,
 * the rest are counted as dropped, and the 5 as undelivered at EOS. */
GST_START_TEST(test_unreachable_broker)
{
    Run r = {0};
    GstStructure *stats;
    gchar *error = run_pipeline("identity", "queue-size=5 flush-timeout=0", &r, &stats);
    fail_unless(error == NULL, "error: %s", error);
    fail_unless_equals_int(r.frames_out, FRAMES);
    fail_unless_equals_uint64(stat(stats, "frames"), FRAMES);
    fail_unless_equals_uint64(stat(stats, "published"), 0);
    fail_unless_equals_uint64(stat(stats, "dropped"), FRAMES - 5);
    fail_unless_equals_uint64(stat(stats, "undelivered"), 5);
    gst_structure_free(stats);
}
GST_END_TEST;

/* TLS: the broker's certificate is signed by the CA in tls-ca-file */
GST_START_TEST(test_tls)
{
    make_certificates();
    write_config(NULL, NULL);
    broker_start();
    Subscriber s = {0};
    subscriber_start(&s, NULL, NULL);
    Run r = {0};
    GstStructure *stats;
    gchar *props = g_strdup_printf("qos=1 tls-ca-file=\"%s/ca.crt\"", dir);
    gchar *error = run_pipeline("identity", props, &r, &stats);
    fail_unless(error == NULL, "error: %s", error);
    fail_unless_equals_int(wait_frames(&s, FRAMES), FRAMES);
    fail_unless_equals_uint64(stat(stats, "published"), FRAMES);
    fail_unless_equals_uint64(stat(stats, "undelivered"), 0);
    gst_structure_free(stats);
    g_free(props);
    subscriber_stop(&s);

    /* another authority's certificate: the handshake fails, an error, not endless retries */
    run_openssl("req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 -subj /CN=other-ca");
    props = g_strdup_printf("tls-ca-file=\"%s/other.crt\" flush-timeout=60000", dir);
    error = run_pipeline("identity", props, &r, &stats);
    fail_unless(error && strstr(error, "over TLS"), "error: %s", error);
    g_free(error);
    g_free(props);
    if (stats)
        gst_structure_free(stats);

    /* a CA file that is not there is an error naming it */
    props = g_strdup_printf("tls-ca-file=\"%s/nothere.crt\"", dir);
    error = run_pipeline("identity", props, &r, &stats);
    fail_unless(error && strstr(error, "nothere.crt\" does not exist"), "error: %s", error);
    g_free(error);
    g_free(props);
    if (stats)
        gst_structure_free(stats);
}
GST_END_TEST;

static Suite *publish_suite(void)
{
    Suite *s = suite_create("anomalypublish");
    TCase *tc = tcase_create("mqtt");
    tcase_set_timeout(tc, 240);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_every_frame_once);
    tcase_add_test(tc, test_broker_restart_loses_nothing);
    tcase_add_test(tc, test_wrong_password);
    tcase_add_test(tc, test_unreachable_broker);
    tcase_add_test(tc, test_tls);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_setenv("GST_CHECKS", argv[1], TRUE);
    gst_check_init(&argc, &argv);
    return gst_check_run_suite(publish_suite(), "anomalypublish", __FILE__) ? 1 : 0;
}
