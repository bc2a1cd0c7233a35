/* sgad-soak: frames of the generated line through
 *   inspectionsrc ! anomalyinject ! skipganomaly ! anomalyoverlay ! anomalyexport ! fakesink
 * (a queue between each two, as an application spreads them over threads)
 * with a hot reload of the model every --reload-every frames (alternating between
 * two files), sampling the process's resident memory and, on an NVIDIA GPU, the
 * device memory it holds (nvidia-smi) every --sample-every frames. Writes the
 * samples as CSV and prints the growth after warm-up (the first 10% of the frames).
 *
 * A C program rather than a Python one so that it runs wherever the plugin runs
 * (a GPU machine without python3-gi, say). tests/soak.sh runs the full soak. */
#include <glib-unix.h>
#include <signal.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  double seconds, rss_mib, device_mib; /* device_mib < 0: not known */
  long frame;
} Sample;

typedef struct {
  GstElement *pipeline, *scorer;
  const char *models[2];
  long frames, reload_every, sample_every, count, reloads;
  gint64 start_us;
  GArray *samples;
  GMainLoop *loop;
  char *error;
  GMutex lock;
} Soak;

static double resident_mib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kib = -1;
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %lf", &kib) == 1)
      break;
  fclose(f);
  return kib / 1024.0;
}

/* The device memory nvidia-smi says this process holds; -1 elsewhere (on lavapipe
 * device memory is host memory and already in the resident size). */
static double device_mib(void) {
  FILE *p = popen("nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null", "r");
  char line[256];
  double mib = -1;
  long pid, mine = (long)getpid();
  double used;
  if (!p)
    return -1;
  while (fgets(line, sizeof line, p))
    if (sscanf(line, "%ld , %lf", &pid, &used) == 2 && pid == mine)
      mib = used;
  pclose(p);
  return mib;
}

static gboolean reload_model(gpointer data) {
  Soak *soak = data;
  g_mutex_lock(&soak->lock);
  const char *next = soak->models[(soak->reloads + 1) % 2];
  soak->reloads++;
  g_mutex_unlock(&soak->lock);
  g_object_set(soak->scorer, "model", next, NULL);
  return G_SOURCE_REMOVE;
}

#define DEVICE_PENDING (-2.0)

/* In the main loop: nvidia-smi takes a while, so the device memory of the samples
 * taken meanwhile is read here rather than in the streaming thread. */
static gboolean read_device_memory(gpointer data) {
  Soak *soak = data;
  double mib = device_mib();
  g_mutex_lock(&soak->lock);
  for (guint i = 0; i < soak->samples->len; i++)
    if (g_array_index(soak->samples, Sample, i).device_mib == DEVICE_PENDING)
      g_array_index(soak->samples, Sample, i).device_mib = mib;
  g_mutex_unlock(&soak->lock);
  return G_SOURCE_REMOVE;
}

/* In the streaming thread: count frames and sample resident memory; reloads run
 * in the main loop, as an application's timer would change the model mid-stream. */
static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  (void)pad;
  (void)info;
  Soak *soak = data;
  g_mutex_lock(&soak->lock);
  long n = ++soak->count;
  if (n % soak->sample_every == 0) {
    Sample s = {(g_get_monotonic_time() - soak->start_us) / 1e6, resident_mib(), DEVICE_PENDING, n};
    g_array_append_val(soak->samples, s);
  }
  g_mutex_unlock(&soak->lock);
  if (n % soak->sample_every == 0)
    g_idle_add(read_device_memory, soak);
  if (soak->reload_every > 0 && n % soak->reload_every == 0)
    g_idle_add(reload_model, soak);
  return GST_PAD_PROBE_OK;
}

/* SIGINT or SIGTERM (a time limit, say): end the stream and keep the samples taken. */
static gboolean on_stop_signal(gpointer data) {
  Soak *soak = data;
  if (!soak->error)
    soak->error = g_strdup("stopped by a signal");
  g_main_loop_quit(soak->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean on_message(GstBus *bus, GstMessage *msg, gpointer data) {
  (void)bus;
  Soak *soak = data;
  GError *err = NULL;
  switch (GST_MESSAGE_TYPE(msg)) {
  case GST_MESSAGE_EOS:
    g_main_loop_quit(soak->loop);
    break;
  case GST_MESSAGE_ERROR:
    gst_message_parse_error(msg, &err, NULL);
    soak->error = g_strdup(err->message);
    g_error_free(err);
    g_main_loop_quit(soak->loop);
    break;
  case GST_MESSAGE_WARNING:
    gst_message_parse_warning(msg, &err, NULL);
    g_printerr("warning: %s\n", err->message);
    g_error_free(err);
    break;
  default:
    break;
  }
  return TRUE;
}

int main(int argc, char **argv) {
  gint64 frames = 100000, reload_every = 1000, sample_every = 500, score_batch = 1;
  gchar *model_a = NULL, *model_b = NULL, *csv = NULL, *jsonl = NULL, *size = NULL;
  GOptionEntry entries[] = {
      {"frames", 0, 0, G_OPTION_ARG_INT64, &frames, "frames to run (100000)", "N"},
      {"reload-every", 0, 0, G_OPTION_ARG_INT64, &reload_every, "hot reload every N frames, 0: never (1000)", "N"},
      {"sample-every", 0, 0, G_OPTION_ARG_INT64, &sample_every, "sample memory every N frames (500)", "N"},
      {"score-batch", 0, 0, G_OPTION_ARG_INT64, &score_batch, "skipganomaly's score-batch (1)", "N"},
      {"size", 0, 0, G_OPTION_ARG_STRING, &size, "frame size (160x120)", "WxH"},
      {"model-a", 0, 0, G_OPTION_ARG_FILENAME, &model_a, "the model scored first", "FILE"},
      {"model-b", 0, 0, G_OPTION_ARG_FILENAME, &model_b, "the model alternated with it", "FILE"},
      {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "samples: frame,seconds,rss_mib,device_mib", "FILE"},
      {"jsonl", 0, 0, G_OPTION_ARG_FILENAME, &jsonl, "anomalyexport's output (/dev/null)", "FILE"},
      {NULL}};
  GError *err = NULL;
  GOptionContext *ctx = g_option_context_new("- soak the plugin's elements");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    g_printerr("sgad-soak: %s\n", err->message);
    return 2;
  }
  g_option_context_free(ctx);
  int width = 160, height = 120;
  if (size && (sscanf(size, "%dx%d", &width, &height) != 2 || width < 16 || height < 16)) {
    g_printerr("sgad-soak: --size wants WxH, got '%s'\n", size);
    return 2;
  }
  if (!model_a || !csv || frames < 1 || sample_every < 1 || reload_every < 0 || score_batch < 1) {
    g_printerr("sgad-soak: needs --model-a and --csv; counts must be positive\n");
    return 2;
  }

  Soak soak = {.models = {model_a, model_b ? model_b : model_a},
               .frames = frames, .reload_every = reload_every, .sample_every = sample_every,
               .samples = g_array_new(FALSE, FALSE, sizeof(Sample))};
  g_mutex_init(&soak.lock);
  gchar *desc = g_strdup_printf(
      "inspectionsrc seed=11 num-buffers=%" G_GINT64_FORMAT " ! video/x-raw,width=%d,height=%d ! queue "
      "! anomalyinject fraction=0.2 ! queue ! skipganomaly name=sg model=\"%s\" score-batch=%" G_GINT64_FORMAT
      " ! queue ! anomalyoverlay ! queue ! anomalyexport location=\"%s\" ! fakesink sync=false",
      frames, width, height, model_a, score_batch, jsonl ? jsonl : "/dev/null");
  soak.pipeline = gst_parse_launch(desc, &err);
  g_free(desc);
  if (err) { /* a missing element or property gives a partial pipeline and an error */
    g_printerr("sgad-soak: %s\n", err->message);
    return 1;
  }
  soak.scorer = gst_bin_get_by_name(GST_BIN(soak.pipeline), "sg");
  GstPad *src = gst_element_get_static_pad(soak.scorer, "src");
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &soak, NULL);
  gst_object_unref(src);

  soak.loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(soak.pipeline);
  gst_bus_add_watch(bus, on_message, &soak);
  g_unix_signal_add(SIGINT, on_stop_signal, &soak);
  g_unix_signal_add(SIGTERM, on_stop_signal, &soak);
  soak.start_us = g_get_monotonic_time();
  if (gst_element_set_state(soak.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE && !soak.error)
    soak.error = g_strdup("the pipeline did not start");
  else
    g_main_loop_run(soak.loop);
  gst_element_set_state(soak.pipeline, GST_STATE_NULL);
  double seconds = (g_get_monotonic_time() - soak.start_us) / 1e6;
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);

  FILE *out = fopen(csv, "w");
  if (!out) {
    g_printerr("sgad-soak: cannot write %s\n", csv);
    return 1;
  }
  fprintf(out, "frame,seconds,rss_mib,device_mib\n");
  const Sample *first_warm = NULL;
  for (guint i = 0; i < soak.samples->len; i++) {
    const Sample *s = &g_array_index(soak.samples, Sample, i);
    if (s->device_mib >= 0)
      fprintf(out, "%ld,%.1f,%.1f,%.0f\n", s->frame, s->seconds, s->rss_mib, s->device_mib);
    else
      fprintf(out, "%ld,%.1f,%.1f,-\n", s->frame, s->seconds, s->rss_mib);
    if (!first_warm && s->frame >= frames / 10)
      first_warm = s;
  }
  if (fclose(out) != 0) {
    g_printerr("sgad-soak: cannot write %s\n", csv);
    return 1;
  }
  if (soak.error)
    g_printerr("sgad-soak: error after %ld frames: %s\n", soak.count, soak.error);
  if (soak.samples->len == 0) {
    g_printerr("sgad-soak: no sample taken (%ld frames)\n", soak.count);
    return 1;
  }
  const Sample *last = &g_array_index(soak.samples, Sample, soak.samples->len - 1);
  if (!first_warm)
    first_warm = last;
  printf("soak: %ld frames in %.0f s (%.1f frames/s), %ld hot reloads; resident memory %.1f MiB after warm-up "
         "(frame %ld), %.1f MiB at the end (%+.1f MiB)",
         soak.count, seconds, soak.count / seconds, soak.reloads, first_warm->rss_mib, first_warm->frame,
         last->rss_mib, last->rss_mib - first_warm->rss_mib);
  if (first_warm->device_mib >= 0 && last->device_mib >= 0)
    printf("; device memory %.0f -> %.0f MiB", first_warm->device_mib, last->device_mib);
  printf("; samples in %s\n", csv);
  return soak.count == frames && !soak.error ? 0 : 1;
}
