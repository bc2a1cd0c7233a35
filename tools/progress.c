/* Training progress on stderr: a bar redrawn in place on a terminal, one line
 * per epoch in a log (a redrawn line would be thousands of \r in a file). */
#include <math.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sgad/util.h"

void cli_progress_init(cli_progress *p, int batch)
{
    p->batch = batch;
    p->tty = isatty(fileno(stderr));
    p->start = sg_now();
    p->last_epoch_printed = UINT32_MAX;
    p->printed_any = false;
}

static void format_duration(char *buf, size_t size, double s)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void losses_text(char *buf, size_t size, const sg_train_losses *l)
{
    if (!l->adversarial) {
        snprintf(buf, size, "G %.4f (con %.4f; reconstruction only, D not trained)", l->g_total, l->g_con);
        return;
    }
    snprintf(buf, size, "G %.4f (adv %.3f con %.4f lat %.4f) D %.4f%s", l->g_total, l->g_adv, l->g_con, l->g_lat,
             l->d_total, l->d_reinitialised ? " D re-init" : "");
}

/* What tells a user the training works: the step of the planned steps, the
 * speed and the time left, the reconstruction loss on training and held-out
 * images (the best so far), a warm-up in progress. */
static void schedule_text(char *buf, size_t size, const sg_fit_progress *f)
{
    char left[32], heldout[96] = "held-out -", warmup[32] = "";
    format_duration(left, sizeof left, f->seconds_left);
    if (!isnan(f->heldout_con) && !isnan(f->best_heldout_con))
        snprintf(heldout, sizeof heldout, "held-out %.4f (best %.4f at step %llu)", f->heldout_con,
                 f->best_heldout_con, (unsigned long long)f->best_step);
    else if (!isnan(f->heldout_con))
        snprintf(heldout, sizeof heldout, "held-out %.4f", f->heldout_con);
    if (f->losses.warmup < 1)
        snprintf(warmup, sizeof warmup, ", warm-up %.2f", f->losses.warmup);
    snprintf(buf, size, "step %llu/%llu, %.3g steps/s, %s left, con %.4f %s%s", (unsigned long long)f->step,
             (unsigned long long)f->steps, f->steps_per_second, left, f->losses.g_con, heldout, warmup);
}

void cli_progress_update(cli_progress *p, const sg_fit_progress *f)
{
    char losses[160], eta[32], elapsed[32], schedule[256];
    losses_text(losses, sizeof losses, &f->losses);
    schedule_text(schedule, sizeof schedule, f);
    if (p->tty) {
        enum { WIDTH = 24 };
        char bar[WIDTH + 1];
        int filled = f->steps_per_epoch ? (int)((uint64_t)f->step_in_epoch * WIDTH / f->steps_per_epoch) : 0;
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[WIDTH] = 0;
        /* the rest of this epoch at the current speed */
        double left = f->images_per_second > 0 ? (double)(f->steps_per_epoch - f->step_in_epoch) * p->batch /
                                                     f->images_per_second
                                               : 0;
        format_duration(eta, sizeof eta, left);
        format_duration(elapsed, sizeof elapsed, sg_now() - p->start);
        char line[768];
        snprintf(line, sizeof line, "epoch %u/%u [%s] %u/%u %.3g img/s, %s, epoch ends in %s | %s | %s", f->epoch + 1,
                 f->epochs, bar, f->step_in_epoch, f->steps_per_epoch, f->images_per_second, elapsed, eta, schedule,
                 losses);
        /* a wrapped line cannot be redrawn with \r: cut it at the terminal's width */
        struct winsize ws;
        if (ioctl(fileno(stderr), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col <= sizeof line)
            line[ws.ws_col - 1] = 0;
        fprintf(stderr, "\r\033[K%s", line);
        fflush(stderr);
        p->printed_any = true;
        return;
    }
    if (f->step_in_epoch == f->steps_per_epoch && f->epoch != p->last_epoch_printed) {
        format_duration(elapsed, sizeof elapsed, sg_now() - p->start);
        fprintf(stderr, "epoch %u/%u: %u steps, %s, %.3g img/s, %s elapsed; %s\n", f->epoch + 1, f->epochs,
                f->steps_per_epoch, losses, f->images_per_second, elapsed, schedule);
        fflush(stderr);
        p->last_epoch_printed = f->epoch;
    }
}

void cli_progress_finish(cli_progress *p)
{
    if (p->tty && p->printed_any)
        fputc('\n', stderr);
    p->printed_any = false;
}
