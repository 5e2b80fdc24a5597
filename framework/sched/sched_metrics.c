/* sched_metrics.c - the scheduler's counters and histograms for /metrics.
 * They live in memory beside the per-stage counts and are bumped under the
 * scheduler's mutex at the two moments that matter (a lease, a completion),
 * so a scrape copies a few hundred integers instead of scanning SQLite. They
 * start from zero when the controller restarts, which Prometheus counters
 * tolerate by design. */
#include "sched/sched_int.h"

#include <string.h>

const double sl_hist_le[SL_HIST_NB] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5,  1,
                                       5,     10,    30,   60,   300, 1800, 3600};

void sl_hist_observe(sl_hist *h, double v)
{
    if (v < 0) v = 0; /* clocks of two hosts: never a negative duration */
    for (int i = 0; i < SL_HIST_NB; i++)
        if (v <= sl_hist_le[i]) {
            h->bucket[i]++;
            break;
        }
    h->count++;
    h->sum += v;
}

void sl_sched_metrics_finish(sl_sched *s, sl_pipe *p, int stage, const sl_completion *c,
                             int outcome)
{
    sl_sched_metrics *m = &s->metrics;
    m->attempts++;
    if (outcome == SL_OUTCOME_RETRIED) m->retries++;
    m->corrupt += (int64_t)c->ncorrupt;
    for (size_t i = 0; i < c->noutputs; i++)
        m->bytes_written += c->outputs[i].size > 0 ? c->outputs[i].size : 0;
    for (size_t i = 0; i < c->ncopies; i++)
        m->bytes_pulled += c->copies[i].size > 0 ? c->copies[i].size : 0;
    if (!p || stage < 0 || (size_t)stage >= p->model->nstages) return;
    sl_stage_rt *rt = &p->rt[stage];
    rt->finished[outcome]++;
    if (c->started > 0 && c->finished >= c->started)
        sl_hist_observe(&rt->duration, c->finished - c->started);
}

void sl_sched_metrics_get(sl_sched *s, sl_sched_metrics *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->metrics;
    pthread_mutex_unlock(&s->mu);
}
