/* anomalypublish: a pass-through that publishes each frame's anomaly result,
 * and anomaly-start/-end events, to an MQTT broker, one JSON object per
 * message in the schema anomalyexport writes (resultjson.h).
 *
 *   ... ! skipganomaly ! anomalypublish host=broker topic=line1/anomaly qos=1 ! ...
 *
 * The video never waits for the broker: messages go into a bounded queue that
 * a client thread (libmosquitto) empties. While the broker cannot be reached
 * the thread reconnects with exponential backoff and the queue holds the
 * messages; when it is full the oldest waiting message is dropped and counted.
 * A message leaves the queue when the broker acknowledged it (QoS 1) or it was
 * written to the socket (QoS 0); messages sent but not acknowledged when the
 * connection broke are sent again after reconnecting (at least once). At EOS
 * the element waits up to flush-timeout for the queue to empty and reports what
 * it could not deliver. A broker that refuses the client (wrong username or
 * password, not authorised) is an error: retrying cannot help. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <math.h>
#include <string.h>

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <mosquitto.h>

#include <sgad/anomalymeta.h>
#include "resultjson.h"

GST_DEBUG_CATEGORY_STATIC(anomaly_publish_debug);
#define GST_CAT_DEFAULT anomaly_publish_debug

#define GST_TYPE_ANOMALY_PUBLISH (gst_anomaly_publish_get_type())
G_DECLARE_FINAL_TYPE(GstAnomalyPublish, gst_anomaly_publish, GST, ANOMALY_PUBLISH, GstBaseTransform)

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT 1883
#define DEFAULT_TOPIC "sgad/anomaly"
#define DEFAULT_QOS 1
#define DEFAULT_KEEP_ALIVE 60
#define DEFAULT_QUEUE_SIZE 1000
#define DEFAULT_FLUSH_TIMEOUT 10000 /* ms */
#define BACKOFF_MIN_US (100 * G_TIME_SPAN_MILLISECOND)
#define BACKOFF_MAX_US (10 * G_TIME_SPAN_SECOND)
#define INFLIGHT_MAX 20 /* messages sent and not yet acknowledged */

typedef struct {
    gchar *payload;
    gsize length;
    gint mid; /* libmosquitto's message id once sent, else 0 */
} Message;

struct _GstAnomalyPublish {
    GstBaseTransform parent;

    /* properties, under the object lock */
    gchar *host, *topic, *client_id, *username, *password, *tls_ca_file;
    guint port, qos, keep_alive, queue_size, flush_timeout;

    /* streaming thread */
    guint64 frames;
    gboolean anomalous; /* the last scored frame's verdict, for the events */

    /* the client thread and what it shares, under `lock` */
    GThread *thread;
    struct mosquitto *mosq;
    GMutex lock;
    GCond cond;
    GQueue waiting;   /* Message*, not sent yet, oldest first */
    GQueue inflight;  /* Message*, sent, waiting for the broker's acknowledgement */
    gboolean quit, connected, refused, unreachable_reported;
    gboolean tls_failed; /* with refused: the TLS handshake failed, not the login */
    gboolean client_done; /* the client thread has ended (and posted a refusal's error) */
    gint early_mid; /* a QoS 0 message reported written inside mosquitto_publish, before its mid was known */
    gchar *refused_reason;
    guint64 published, dropped;
};

enum {
    PROP_0,
    PROP_HOST,
    PROP_PORT,
    PROP_TOPIC,
    PROP_QOS,
    PROP_CLIENT_ID,
    PROP_KEEP_ALIVE,
    PROP_USERNAME,
    PROP_PASSWORD,
    PROP_TLS_CA_FILE,
    PROP_QUEUE_SIZE,
    PROP_FLUSH_TIMEOUT,
    PROP_PUBLISHED,
    PROP_DROPPED,
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

G_DEFINE_TYPE(GstAnomalyPublish, gst_anomaly_publish, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(anomalypublish, "anomalypublish", GST_RANK_NONE, GST_TYPE_ANOMALY_PUBLISH);

static void message_free(gpointer data)
{
    Message *m = data;
    g_free(m->payload);
    g_free(m);
}

/* ---- the client thread ---------------------------------------------------- */

static void on_connect(struct mosquitto *mosq, void *user, int rc)
{
    (void)mosq;
    GstAnomalyPublish *self = user;
    g_mutex_lock(&self->lock);
    if (rc == 0) {
        /* libmosquitto sends again by itself what was sent and not acknowledged */
        self->connected = TRUE;
        self->unreachable_reported = FALSE;
    } else {
        self->refused = TRUE;
        g_free(self->refused_reason);
        /* "Connection Refused: not authorised." without its full stop: the error adds one */
        self->refused_reason = g_strdup(mosquitto_connack_string(rc));
        gsize n = strlen(self->refused_reason);
        if (n && self->refused_reason[n - 1] == '.')
            self->refused_reason[n - 1] = '\0';
    }
    g_cond_broadcast(&self->cond);
    g_mutex_unlock(&self->lock);
    if (rc == 0)
        GST_INFO_OBJECT(self, "connected to the broker");
}

static void on_disconnect(struct mosquitto *mosq, void *user, int rc)
{
    (void)mosq;
    GstAnomalyPublish *self = user;
    g_mutex_lock(&self->lock);
    self->connected = FALSE;
    g_mutex_unlock(&self->lock);
    GST_INFO_OBJECT(self, "disconnected from the broker (%s)", mosquitto_strerror(rc));
}

/* QoS 1: the broker acknowledged mid; QoS 0: mid was written */
static void on_publish(struct mosquitto *mosq, void *user, int mid)
{
    (void)mosq;
    GstAnomalyPublish *self = user;
    g_mutex_lock(&self->lock);
    for (GList *l = self->inflight.head; l; l = l->next) {
        Message *m = l->data;
        if (m->mid == mid) {
            g_queue_delete_link(&self->inflight, l);
            message_free(m);
            self->published++;
            mid = 0;
            break;
        }
    }
    if (mid)
        self->early_mid = mid;
    g_cond_broadcast(&self->cond);
    g_mutex_unlock(&self->lock);
}

/* Hand waiting messages to libmosquitto while connected and the window allows. */
static void send_waiting(GstAnomalyPublish *self, const gchar *topic, gint qos)
{
    g_mutex_lock(&self->lock);
    while (self->connected && !g_queue_is_empty(&self->waiting) && self->inflight.length < INFLIGHT_MAX) {
        Message *m = g_queue_pop_head(&self->waiting);
        g_queue_push_tail(&self->inflight, m);
        int mid = 0;
        self->early_mid = 0;
        g_mutex_unlock(&self->lock);
        int rc = mosquitto_publish(self->mosq, &mid, topic, (int)m->length, m->payload, qos, false);
        g_mutex_lock(&self->lock);
        if (rc != MOSQ_ERR_SUCCESS) {
            g_queue_remove(&self->inflight, m);
            g_queue_push_head(&self->waiting, m);
            self->connected = FALSE;
            break;
        }
        if (self->early_mid == mid) {
            /* QoS 0 is written at once, and reported before its mid reached us */
            g_queue_remove(&self->inflight, m);
            message_free(m);
            self->published++;
            g_cond_broadcast(&self->cond);
        } else {
            m->mid = mid;
        }
    }
    g_mutex_unlock(&self->lock);
}

/* A TLS handshake that fails will fail again: the broker's certificate does
 * not match tls-ca-file or the host name. Stop, as for a refused login. */
static gboolean tls_failure(GstAnomalyPublish *self, int rc)
{
    if (rc != MOSQ_ERR_TLS && rc != MOSQ_ERR_TLS_HANDSHAKE)
        return FALSE;
    g_mutex_lock(&self->lock);
    self->refused = self->tls_failed = TRUE;
    g_free(self->refused_reason);
    self->refused_reason = g_strdup(mosquitto_strerror(rc));
    gsize n = strlen(self->refused_reason);
    if (n && self->refused_reason[n - 1] == '.') /* the error adds its own */
        self->refused_reason[n - 1] = '\0';
    g_cond_broadcast(&self->cond);
    g_mutex_unlock(&self->lock);
    return TRUE;
}

/* Once per outage: the video goes on, messages wait in the queue. */
static void report_unreachable(GstAnomalyPublish *self, const gchar *host, gint port, int rc, int err)
{
    g_mutex_lock(&self->lock);
    gboolean report = !self->unreachable_reported;
    self->unreachable_reported = TRUE;
    g_mutex_unlock(&self->lock);
    if (report)
        GST_ELEMENT_WARNING(self, RESOURCE, OPEN_WRITE,
                            ("Cannot reach the MQTT broker at %s:%d; retrying, results wait in the queue.", host,
                             port),
                            ("%s", rc == MOSQ_ERR_ERRNO ? g_strerror(err) : mosquitto_strerror(rc)));
}

static gpointer client_thread(gpointer data)
{
    GstAnomalyPublish *self = data;
    GST_OBJECT_LOCK(self);
    gchar *host = g_strdup(self->host), *topic = g_strdup(self->topic);
    const gint port = (gint)self->port, qos = (gint)self->qos, keep_alive = (gint)self->keep_alive;
    GST_OBJECT_UNLOCK(self);

    gboolean socket_open = FALSE, ever_opened = FALSE;
    gint64 backoff = BACKOFF_MIN_US, next_attempt = 0;
    for (;;) {
        g_mutex_lock(&self->lock);
        gboolean quit = self->quit, refused = self->refused;
        g_mutex_unlock(&self->lock);
        if (quit || refused)
            break;
        if (!socket_open) {
            gint64 now = g_get_monotonic_time();
            if (now < next_attempt) {
                g_mutex_lock(&self->lock);
                if (!self->quit)
                    g_cond_wait_until(&self->cond, &self->lock, next_attempt);
                g_mutex_unlock(&self->lock);
                continue;
            }
            /* non-blocking: a host that does not answer cannot hold up stop() */
            int rc = ever_opened ? mosquitto_reconnect_async(self->mosq)
                                 : mosquitto_connect_async(self->mosq, host, port, keep_alive);
            if (rc == MOSQ_ERR_SUCCESS) {
                socket_open = ever_opened = TRUE;
            } else if (tls_failure(self, rc)) {
                break;
            } else {
                report_unreachable(self, host, port, rc, errno);
                next_attempt = g_get_monotonic_time() + backoff;
                backoff = MIN(backoff * 2, BACKOFF_MAX_US);
                continue;
            }
        }
        send_waiting(self, topic, qos);
        /* whether the broker had accepted us before this round (on_disconnect clears it within it) */
        g_mutex_lock(&self->lock);
        const gboolean connected = self->connected;
        g_mutex_unlock(&self->lock);
        int rc = mosquitto_loop(self->mosq, 50, 1);
        const int err = errno;
        if (rc != MOSQ_ERR_SUCCESS) {
            g_mutex_lock(&self->lock);
            self->connected = FALSE;
            g_mutex_unlock(&self->lock);
        }
        if (rc != MOSQ_ERR_SUCCESS && tls_failure(self, rc))
            break;
        if (rc != MOSQ_ERR_SUCCESS) {
            /* before the broker's CONNACK: this attempt could not reach it */
            if (!connected)
                report_unreachable(self, host, port, rc, err);
            GST_DEBUG_OBJECT(self, "connection lost: %s", mosquitto_strerror(rc));
            socket_open = FALSE;
            next_attempt = g_get_monotonic_time() + backoff;
            backoff = MIN(backoff * 2, BACKOFF_MAX_US);
        } else if (connected) {
            backoff = BACKOFF_MIN_US;
        }
    }
    if (socket_open)
        mosquitto_disconnect(self->mosq);
    g_mutex_lock(&self->lock);
    gchar *why = self->refused ? g_strdup(self->refused_reason) : NULL;
    const gboolean tls_failed = self->tls_failed;
    g_mutex_unlock(&self->lock);
    if (why && tls_failed) {
        GST_OBJECT_LOCK(self);
        gchar *ca = g_strdup(self->tls_ca_file);
        GST_OBJECT_UNLOCK(self);
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                          ("Cannot connect to the MQTT broker at %s:%d over TLS: %s.", host, port, why),
                          ("the broker's certificate must be signed by the authority in \"%s\" and name the host "
                           "\"%s\"",
                           ca, host));
        g_free(ca);
        g_free(why);
    } else if (why) {
        GST_OBJECT_LOCK(self);
        gchar *who = g_strdup(self->username);
        GST_OBJECT_UNLOCK(self);
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                          ("The MQTT broker at %s:%d refused the connection: %s.", host, port, why),
                          ("user \"%s\": check the username, password and the broker's access control",
                           who ? who : "(anonymous)"));
        g_free(who);
        g_free(why);
    }
    g_mutex_lock(&self->lock);
    self->client_done = TRUE;
    g_cond_broadcast(&self->cond);
    g_mutex_unlock(&self->lock);
    g_free(host);
    g_free(topic);
    return NULL;
}

/* ---- the queue ------------------------------------------------------------ */

static void enqueue(GstAnomalyPublish *self, gchar *payload, gsize length)
{
    GST_OBJECT_LOCK(self);
    const guint capacity = self->queue_size;
    GST_OBJECT_UNLOCK(self);
    Message *m = g_new0(Message, 1);
    m->payload = payload;
    m->length = length;
    gboolean overflow = FALSE;
    g_mutex_lock(&self->lock);
    if (self->waiting.length + self->inflight.length >= capacity) {
        /* full: the oldest waiting message makes room (sent ones wait for their ack) */
        Message *old = g_queue_pop_head(&self->waiting);
        if (old)
            message_free(old);
        else
            message_free(g_steal_pointer(&m));
        overflow = self->dropped++ == 0;
    }
    if (m)
        g_queue_push_tail(&self->waiting, m);
    g_cond_broadcast(&self->cond);
    g_mutex_unlock(&self->lock);
    if (overflow)
        GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                            ("The MQTT queue is full (queue-size %u): dropping the oldest results.", capacity),
                            ("the broker does not take messages as fast as they come; messages-dropped counts them"));
}

/* With self->lock held: whether the broker refused us, and if so not before
 * the client thread, which posts the refusal's error as it ends, has posted
 * it, so that the error is on the bus before what the streaming thread does
 * next (a flow error, or the EOS). */
static gboolean refusal_posted(GstAnomalyPublish *self)
{
    while (self->refused && !self->client_done)
        g_cond_wait(&self->cond, &self->lock);
    return self->refused;
}

static GstFlowReturn gst_anomaly_publish_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
    GstAnomalyPublish *self = GST_ANOMALY_PUBLISH(trans);
    g_mutex_lock(&self->lock);
    /* before the source's "Internal data stream error" */
    gboolean refused = refusal_posted(self);
    g_mutex_unlock(&self->lock);
    if (refused)
        return GST_FLOW_ERROR;

    const guint64 frame = self->frames++;
    SgadAnomalyResult r;
    const gboolean scored = sgad_buffer_get_anomaly_result(buf, &r);
    const gchar *defect = NULL;
    const gint truth = sgad_buffer_get_anomaly_truth(buf, &defect);
    gsize len = 0;
    gchar *text = sgad_result_json_frame(buf, frame, scored ? &r : NULL, truth, defect, &len);
    enqueue(self, text, len);
    if (scored && r.anomalous != self->anomalous) {
        self->anomalous = r.anomalous;
        text = sgad_result_json_event(r.anomalous ? "anomaly-start" : "anomaly-end", frame, GST_BUFFER_PTS(buf),
                                      r.score, &len);
        enqueue(self, text, len);
    }
    return GST_FLOW_OK;
}

/* ---- EOS, start, stop ----------------------------------------------------- */

static void post_stats(GstAnomalyPublish *self, guint64 lost)
{
    g_mutex_lock(&self->lock);
    GstStructure *s = gst_structure_new("anomalypublish-stats", "frames", G_TYPE_UINT64, self->frames, "published",
                                        G_TYPE_UINT64, self->published, "dropped", G_TYPE_UINT64, self->dropped,
                                        "undelivered", G_TYPE_UINT64, lost, NULL);
    g_mutex_unlock(&self->lock);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* Wait for the queue to empty, at most flush-timeout; report what is left. */
static void flush_queue(GstAnomalyPublish *self)
{
    GST_OBJECT_LOCK(self);
    const gint64 until = g_get_monotonic_time() + (gint64)self->flush_timeout * G_TIME_SPAN_MILLISECOND;
    gchar *where = g_strdup_printf("%s:%u", self->host, self->port);
    GST_OBJECT_UNLOCK(self);
    g_mutex_lock(&self->lock);
    while (self->waiting.length + self->inflight.length > 0 && !self->refused)
        if (!g_cond_wait_until(&self->cond, &self->lock, until))
            break;
    refusal_posted(self); /* before the EOS */
    const guint64 lost = self->waiting.length + self->inflight.length;
    g_mutex_unlock(&self->lock);
    if (lost)
        GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                            ("%" G_GUINT64_FORMAT " results were not delivered to the MQTT broker at %s by the end "
                             "of the stream.",
                             lost, where),
                            ("flush-timeout elapsed before the broker acknowledged them"));
    post_stats(self, lost);
    g_free(where);
}

static gboolean gst_anomaly_publish_sink_event(GstBaseTransform *trans, GstEvent *event)
{
    GstAnomalyPublish *self = GST_ANOMALY_PUBLISH(trans);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->thread)
        flush_queue(self);
    return GST_BASE_TRANSFORM_CLASS(gst_anomaly_publish_parent_class)->sink_event(trans, event);
}

static gboolean gst_anomaly_publish_start(GstBaseTransform *trans)
{
    GstAnomalyPublish *self = GST_ANOMALY_PUBLISH(trans);
    static gsize lib_ready = 0;
    if (g_once_init_enter(&lib_ready)) {
        mosquitto_lib_init();
        g_once_init_leave(&lib_ready, 1);
    }
    GST_OBJECT_LOCK(self);
    gchar *client_id = g_strdup(self->client_id), *username = g_strdup(self->username);
    gchar *password = g_strdup(self->password), *ca = g_strdup(self->tls_ca_file), *host = g_strdup(self->host);
    GST_OBJECT_UNLOCK(self);
    gboolean ok = FALSE;

    if (!host || !*host) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No MQTT broker host given."), ("set the host property"));
        goto done;
    }
    /* no client id: the broker makes one up (needs a clean session, which is what this is) */
    self->mosq = mosquitto_new(client_id && *client_id ? client_id : NULL, true, self);
    if (!self->mosq) {
        GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Cannot create the MQTT client: %s.", g_strerror(errno)), (NULL));
        goto done;
    }
    mosquitto_int_option(self->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(self->mosq, on_connect);
    mosquitto_disconnect_callback_set(self->mosq, on_disconnect);
    mosquitto_publish_callback_set(self->mosq, on_publish);
    if (username && *username && mosquitto_username_pw_set(self->mosq, username, password) != MOSQ_ERR_SUCCESS) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid MQTT username or password."), (NULL));
        goto done;
    }
    if (ca && *ca) {
        if (!g_file_test(ca, G_FILE_TEST_IS_REGULAR)) {
            GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("TLS CA file \"%s\" does not exist.", ca),
                              ("set tls-ca-file to the PEM file of the authority that signed the broker's "
                               "certificate"));
            goto done;
        }
        int rc = mosquitto_tls_set(self->mosq, ca, NULL, NULL, NULL, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot use TLS CA file \"%s\": %s.", ca,
                                                         mosquitto_strerror(rc)),
                              (NULL));
            goto done;
        }
    }
    self->frames = 0;
    self->anomalous = FALSE;
    self->quit = self->connected = self->refused = self->unreachable_reported = self->tls_failed = FALSE;
    self->client_done = FALSE;
    self->published = self->dropped = 0;
    self->thread = g_thread_new("sgad-mqtt", client_thread, self);
    ok = TRUE;
done:
    if (!ok && self->mosq) {
        mosquitto_destroy(self->mosq);
        self->mosq = NULL;
    }
    g_free(client_id);
    g_free(username);
    g_free(password);
    g_free(ca);
    g_free(host);
    return ok;
}

static gboolean gst_anomaly_publish_stop(GstBaseTransform *trans)
{
    GstAnomalyPublish *self = GST_ANOMALY_PUBLISH(trans);
    if (self->thread) {
        g_mutex_lock(&self->lock);
        self->quit = TRUE;
        g_cond_broadcast(&self->cond);
        g_mutex_unlock(&self->lock);
        g_thread_join(g_steal_pointer(&self->thread));
    }
    if (self->mosq) {
        mosquitto_destroy(self->mosq);
        self->mosq = NULL;
    }
    g_mutex_lock(&self->lock);
    const guint left = self->waiting.length + self->inflight.length;
    g_queue_clear_full(&self->waiting, message_free);
    g_queue_clear_full(&self->inflight, message_free);
    g_clear_pointer(&self->refused_reason, g_free);
    g_mutex_unlock(&self->lock);
    if (left)
        GST_INFO_OBJECT(self, "stopped with %u results not delivered", left);
    return TRUE;
}

/* ---- properties ----------------------------------------------------------- */

static void set_string(GstAnomalyPublish *self, gchar **field, const GValue *value)
{
    GST_OBJECT_LOCK(self);
    g_free(*field);
    *field = g_value_dup_string(value);
    GST_OBJECT_UNLOCK(self);
}

static void gst_anomaly_publish_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    GstAnomalyPublish *self = GST_ANOMALY_PUBLISH(object);
    switch (prop_id) {
    case PROP_HOST:
        set_string(self, &self->host, value);
        break;
    case PROP_TOPIC:
        set_string(self, &self->topic, value);
        break;
    case PROP_CLIENT_ID:
        set_string(self, &self->client_id, value);
        break;
    case PROP_USERNAME:
        set_string(self, &self->username, value);
        break;
    case PROP_PASSWORD:
        set_string(self, &self->password, value);
        break;
    case PROP_TLS_CA_FILE:
        set_string(self, &self->tls_ca_file, value);
        break;
    case PROP_PORT:
    case PROP_QOS:
    case PROP_KEEP_ALIVE:
    case PROP_QUEUE_SIZE:
    case PROP_FLUSH_TIMEOUT: {
        GST_OBJECT_LOCK(self);
        guint v = g_value_get_uint(value);
        if (prop_id == PROP_PORT)
            self->port = v;
        else if (prop_id == PROP_QOS)
            self->qos = v;
        else if (prop_id == PROP_KEEP_ALIVE)
            self->keep_alive = v;
        else if (prop_id == PROP_QUEUE_SIZE)
            self->queue_size = v;
        else
            self->flush_timeout = v;
        GST_OBJECT_UNLOCK(self);
        break;
    }
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void gst_anomaly_publish_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    GstAnomalyPublish *self = GST_ANOMALY_PUBLISH(object);
    if (prop_id == PROP_PUBLISHED || prop_id == PROP_DROPPED) {
        g_mutex_lock(&self->lock);
        g_value_set_uint64(value, prop_id == PROP_PUBLISHED ? self->published : self->dropped);
        g_mutex_unlock(&self->lock);
        return;
    }
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_HOST:
        g_value_set_string(value, self->host);
        break;
    case PROP_TOPIC:
        g_value_set_string(value, self->topic);
        break;
    case PROP_CLIENT_ID:
        g_value_set_string(value, self->client_id);
        break;
    case PROP_USERNAME:
        g_value_set_string(value, self->username);
        break;
    case PROP_PASSWORD:
        g_value_set_string(value, self->password ? "********" : NULL); /* not readable back */
        break;
    case PROP_TLS_CA_FILE:
        g_value_set_string(value, self->tls_ca_file);
        break;
    case PROP_PORT:
        g_value_set_uint(value, self->port);
        break;
    case PROP_QOS:
        g_value_set_uint(value, self->qos);
        break;
    case PROP_KEEP_ALIVE:
        g_value_set_uint(value, self->keep_alive);
        break;
    case PROP_QUEUE_SIZE:
        g_value_set_uint(value, self->queue_size);
        break;
    case PROP_FLUSH_TIMEOUT:
        g_value_set_uint(value, self->flush_timeout);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_anomaly_publish_finalize(GObject *object)
{
    GstAnomalyPublish *self = GST_ANOMALY_PUBLISH(object);
    g_free(self->host);
    g_free(self->topic);
    g_free(self->client_id);
    g_free(self->username);
    g_free(self->password);
    g_free(self->tls_ca_file);
    g_free(self->refused_reason);
    g_mutex_clear(&self->lock);
    g_cond_clear(&self->cond);
    G_OBJECT_CLASS(gst_anomaly_publish_parent_class)->finalize(object);
}

#define READY_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void gst_anomaly_publish_class_init(GstAnomalyPublishClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);

    GST_DEBUG_CATEGORY_INIT(anomaly_publish_debug, "anomalypublish", 0, "anomaly results to MQTT");
    sgad_anomaly_meta_register();

    gobject_class->set_property = gst_anomaly_publish_set_property;
    gobject_class->get_property = gst_anomaly_publish_get_property;
    gobject_class->finalize = gst_anomaly_publish_finalize;

    g_object_class_install_property(gobject_class, PROP_HOST,
                                    g_param_spec_string("host", "Host", "MQTT broker host name or address",
                                                        DEFAULT_HOST, READY_FLAGS));
    g_object_class_install_property(gobject_class, PROP_PORT,
                                    g_param_spec_uint("port", "Port", "MQTT broker port (8883 is usual with TLS)", 1,
                                                      65535, DEFAULT_PORT, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_TOPIC,
        g_param_spec_string("topic", "Topic",
                            "Topic of the messages: one JSON object each, a frame's result or an anomaly-start/-end "
                            "event, in anomalyexport's schema",
                            DEFAULT_TOPIC, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_QOS,
        g_param_spec_uint("qos", "QoS",
                          "MQTT quality of service: 0 at most once, 1 at least once (kept until the broker "
                          "acknowledges, sent again after a reconnect)",
                          0, 1, DEFAULT_QOS, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_CLIENT_ID,
        g_param_spec_string("client-id", "Client id", "MQTT client id; NULL lets the broker choose one", NULL,
                            READY_FLAGS));
    g_object_class_install_property(gobject_class, PROP_KEEP_ALIVE,
                                    g_param_spec_uint("keep-alive", "Keep-alive",
                                                      "Seconds between pings while idle (MQTT keep-alive)", 5, 65535,
                                                      DEFAULT_KEEP_ALIVE, READY_FLAGS));
    g_object_class_install_property(gobject_class, PROP_USERNAME,
                                    g_param_spec_string("username", "Username",
                                                        "User name for the broker; NULL: anonymous", NULL,
                                                        READY_FLAGS));
    g_object_class_install_property(gobject_class, PROP_PASSWORD,
                                    g_param_spec_string("password", "Password",
                                                        "Password for the broker (with username; reads back masked)",
                                                        NULL, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_TLS_CA_FILE,
        g_param_spec_string("tls-ca-file", "TLS CA file",
                            "PEM file of the certificate authority that signed the broker's certificate: connect "
                            "with TLS; NULL: plain TCP",
                            NULL, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_QUEUE_SIZE,
        g_param_spec_uint("queue-size", "Queue size",
                          "Most messages held while the broker is slow or unreachable (sent ones until "
                          "acknowledged); when full the oldest waiting one is dropped (messages-dropped, a warning)",
                          1, G_MAXINT32, DEFAULT_QUEUE_SIZE, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_FLUSH_TIMEOUT,
        g_param_spec_uint("flush-timeout", "Flush timeout",
                          "At EOS, milliseconds to wait for the queue to be delivered before EOS goes on; what "
                          "is left then is reported (a warning and the anomalypublish-stats message)",
                          0, G_MAXUINT, DEFAULT_FLUSH_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_PUBLISHED,
        g_param_spec_uint64("messages-published", "Messages published",
                            "Messages the broker acknowledged (QoS 1) or that were sent (QoS 0)", 0, G_MAXUINT64, 0,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_DROPPED,
        g_param_spec_uint64("messages-dropped", "Messages dropped", "Messages dropped because the queue was full", 0,
                            G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

    gst_element_class_set_static_metadata(
        element_class, "Anomaly MQTT publisher", "Filter/Analyzer/Video",
        "Publishes each frame's anomaly result and anomaly-start/-end events to an MQTT broker as JSON", "sgad");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);

    trans_class->start = GST_DEBUG_FUNCPTR(gst_anomaly_publish_start);
    trans_class->stop = GST_DEBUG_FUNCPTR(gst_anomaly_publish_stop);
    trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_anomaly_publish_sink_event);
    trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_anomaly_publish_transform_ip);
    trans_class->transform_ip_on_passthrough = TRUE;
    trans_class->passthrough_on_same_caps = TRUE;
}

static void gst_anomaly_publish_init(GstAnomalyPublish *self)
{
    self->host = g_strdup(DEFAULT_HOST);
    self->topic = g_strdup(DEFAULT_TOPIC);
    self->port = DEFAULT_PORT;
    self->qos = DEFAULT_QOS;
    self->keep_alive = DEFAULT_KEEP_ALIVE;
    self->queue_size = DEFAULT_QUEUE_SIZE;
    self->flush_timeout = DEFAULT_FLUSH_TIMEOUT;
    g_mutex_init(&self->lock);
    g_cond_init(&self->cond);
    g_queue_init(&self->waiting);
    g_queue_init(&self->inflight);
    gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
