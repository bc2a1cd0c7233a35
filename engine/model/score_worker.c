/* A thread that scores one batch at a time (sgad/score_worker.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgad/score_worker.h"

#include "../core/error.h"

struct sg_score_worker {
    sg_score_fn run;
    void *user;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* under lock */
    bool has_job, running, quit;
    const float *images;
    int count;
    float *scores, *heatmaps;
    sg_status status;
    char message[1024]; /* the failure's message, from the worker thread */
    /* the caller's thread only */
    bool started;
};

static sg_status run_scorer(void *user, const float *images, int count, float *scores, float *heatmaps)
{
    return sg_scorer_run(user, images, count, scores, heatmaps, NULL);
}

static void *worker_main(void *data)
{
    sg_score_worker *w = data;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->has_job && !w->quit)
            pthread_cond_wait(&w->changed, &w->lock);
        if (!w->has_job)
            break;
        w->has_job = false;
        w->running = true;
        pthread_mutex_unlock(&w->lock);
        sg_status s = w->run(w->user, w->images, w->count, w->scores, w->heatmaps);
        pthread_mutex_lock(&w->lock);
        w->status = s;
        if (s != SG_OK)
            snprintf(w->message, sizeof w->message, "%s", sg_error_message());
        w->running = false;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

sg_status sg_score_worker_create(sg_score_fn run, void *user, sg_score_worker **out)
{
    sg_score_worker *w = calloc(1, sizeof *w);
    if (!w)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    w->run = run ? run : run_scorer;
    w->user = user;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_cond_destroy(&w->changed);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return sg_fail(SG_ERR_STATE, "cannot start the scoring thread");
    }
    *out = w;
    return SG_OK;
}

void sg_score_worker_destroy(sg_score_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL); /* it finishes a job already handed in */
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

sg_status sg_score_worker_wait(sg_score_worker *w)
{
    if (!w->started)
        return SG_OK;
    pthread_mutex_lock(&w->lock);
    while (w->has_job || w->running)
        pthread_cond_wait(&w->changed, &w->lock);
    sg_status s = w->status;
    if (s != SG_OK)
        sg_fail(s, "%s", w->message);
    pthread_mutex_unlock(&w->lock);
    w->started = false;
    return s;
}

sg_status sg_score_worker_start(sg_score_worker *w, const float *images, int count, float *scores,
                                float *heatmaps)
{
    if (count < 1 || !images || !scores)
        return sg_fail(SG_ERR_ARGUMENT, "a scoring batch needs images and room for %d scores", count);
    sg_score_worker_wait(w);
    pthread_mutex_lock(&w->lock);
    w->images = images;
    w->count = count;
    w->scores = scores;
    w->heatmaps = heatmaps;
    w->status = SG_OK;
    w->has_job = true;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    w->started = true;
    return SG_OK;
}

bool sg_score_worker_busy(const sg_score_worker *w)
{
    return w->started;
}
