/* metrics.c - /metrics, the metrics history and /api/history (metrics.h).
 * The exposition is built family by family: each pipeline's samples go to
 * the buffer of their family, and the buffers are joined under their HELP
 * and TYPE lines at the end, so Prometheus sees each family once. Counters
 * and histograms are copied from the scheduler's memory; only the host
 * gauges read SQLite (the small hosts table and the running tasks). */
#include "controller/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/clock.h"

enum {
    F_TASKS,
    F_WAITING,
    F_RATE,
    F_RUNNING,
    F_CORRUPT,
    F_FINISHED,
    F_DURATION,
    F_NPIPE,
};

static const struct {
    const char *name, *type, *help;
} FAM[F_NPIPE] = {
    {"sluice_tasks", "gauge", "Tasks by pipeline, stage and state."},
    {"sluice_gather_waiting", "gauge", "Incomplete gather groups by stage."},
    {"sluice_stage_rate", "gauge", "Tasks done per second over the last minute, by stage."},
    {"sluice_pipeline_running", "gauge", "1 while the pipeline runs, 0 once finished."},
    {"sluice_corrupt_copies", "gauge", "Copies of the pipeline's objects found corrupt."},
    {"sluice_tasks_finished_total", "counter",
     "Task attempts finished by stage and outcome (done, failed, retried) since the controller "
     "started."},
    {"sluice_task_duration_seconds", "histogram", "Run time of task attempts by stage."},
};

static const char *const STATES[] = {"queued", "running", "done", "failed", "cancelled"};
static const char *const OUTCOMES[] = {"done", "failed", "retried"};

/* A label value: backslash, double quote and newline escaped. */
static void label_esc(sl_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\')
            sl_buf_puts(b, "\\\\");
        else if (*s == '"')
            sl_buf_puts(b, "\\\"");
        else if (*s == '\n')
            sl_buf_puts(b, "\\n");
        else
            sl_buf_putc(b, *s);
    }
}

static void head(sl_buf *b, const char *name, const char *type, const char *help)
{
    sl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{labels,le="..."}: buckets cumulative, then _sum and _count. labels
 * is "" or 'k="v",' pairs ending with a comma. */
static void hist(sl_buf *b, const char *name, const char *labels, const sl_hist *h)
{
    int64_t cum = 0;
    for (int i = 0; i < SL_HIST_NB; i++) {
        cum += h->bucket[i];
        sl_buf_printf(b, "%s_bucket{%sle=\"%g\"} %lld\n", name, labels, sl_hist_le[i],
                      (long long)cum);
    }
    sl_buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %lld\n", name, labels, (long long)h->count);
    int n = (int)strlen(labels); /* without its trailing comma, and no {} when empty */
    sl_buf_printf(b, "%s_sum%s%.*s%s %.6f\n", name, n ? "{" : "", n ? n - 1 : 0, labels,
                  n ? "}" : "", h->sum);
    sl_buf_printf(b, "%s_count%s%.*s%s %lld\n", name, n ? "{" : "", n ? n - 1 : 0, labels,
                  n ? "}" : "", (long long)h->count);
}

typedef struct {
    sl_buf fam[F_NPIPE];
    double now, forget_s;
} render_ctx;

static int pipe_cb(void *ctx, const sl_pipe_stat *ps)
{
    render_ctx *c = ctx;
    if (strcmp(ps->state, "running") != 0 && ps->finished > 0 &&
        c->now - ps->finished > c->forget_s)
        return 0; /* finished long enough ago: its series end */
    sl_buf pl = SL_BUF_INIT;
    sl_buf_puts(&pl, "pipeline=\"");
    label_esc(&pl, ps->name);
    sl_buf_printf(&pl, "\",id=\"%lld\"", (long long)ps->id);
    for (size_t k = 0; k < ps->nstages; k++) {
        const sl_stage_stat *s = &ps->stages[k];
        sl_buf sl = SL_BUF_INIT;
        sl_buf_printf(&sl, "%s,stage=\"", pl.data);
        label_esc(&sl, s->name);
        sl_buf_putc(&sl, '"');
        for (int st = 0; st < 5; st++)
            sl_buf_printf(&c->fam[F_TASKS], "sluice_tasks{%s,state=\"%s\"} %lld\n", sl.data,
                          STATES[st], (long long)s->count[st]);
        sl_buf_printf(&c->fam[F_WAITING], "sluice_gather_waiting{%s} %lld\n", sl.data,
                      (long long)s->waiting);
        sl_buf_printf(&c->fam[F_RATE], "sluice_stage_rate{%s} %.3f\n", sl.data, s->rate);
        for (int o = 0; o < SL_OUTCOME_N; o++)
            sl_buf_printf(&c->fam[F_FINISHED],
                          "sluice_tasks_finished_total{%s,outcome=\"%s\"} %lld\n", sl.data,
                          OUTCOMES[o], (long long)s->finished[o]);
        sl_buf_putc(&sl, ',');
        hist(&c->fam[F_DURATION], "sluice_task_duration_seconds", sl.data, &s->duration);
        sl_buf_free(&sl);
    }
    sl_buf_printf(&c->fam[F_RUNNING], "sluice_pipeline_running{%s} %d\n", pl.data,
                  strcmp(ps->state, "running") == 0);
    sl_buf_printf(&c->fam[F_CORRUPT], "sluice_corrupt_copies{%s} %lld\n", pl.data,
                  (long long)ps->corrupt);
    sl_buf_free(&pl);
    return 0;
}

/* ---- hosts: gauges from the hosts table ---- */
enum { H_UP, H_RUNNING, H_USED, H_BUDGET, H_SEEN, H_N };
static const struct {
    const char *name, *help;
} HFAM[H_N] = {
    {"sluice_host_up", "1 while the host's agent is up, 0 once lost."},
    {"sluice_host_running_tasks", "Tasks leased to the host and running (slots busy)."},
    {"sluice_host_cache_used_bytes", "Bytes of cached objects on the host, by tier."},
    {"sluice_host_cache_budget_bytes", "The host's cache budget by tier (0: no limit)."},
    {"sluice_host_last_seen_seconds", "Seconds since the host's agent was last heard from."},
};

typedef struct {
    sl_buf fam[H_N];
    double now;
    char **names; /* hosts seen, to fill in 0 running tasks */
    size_t n;
} host_ctx;

static void host_label(sl_buf *b, const char *host)
{
    sl_buf_puts(b, "host=\"");
    label_esc(b, host);
    sl_buf_putc(b, '"');
}

static int host_cb(void *ctx, const sl_host_row *h)
{
    host_ctx *c = ctx;
    sl_buf l = SL_BUF_INIT;
    host_label(&l, h->name);
    sl_buf_printf(&c->fam[H_UP], "sluice_host_up{%s} %d\n", l.data,
                  h->state && !strcmp(h->state, "up"));
    sl_buf_printf(&c->fam[H_USED], "sluice_host_cache_used_bytes{%s,tier=\"mem\"} %lld\n", l.data,
                  (long long)h->mem_used);
    sl_buf_printf(&c->fam[H_USED], "sluice_host_cache_used_bytes{%s,tier=\"ssd\"} %lld\n", l.data,
                  (long long)h->ssd_used);
    sl_buf_printf(&c->fam[H_BUDGET], "sluice_host_cache_budget_bytes{%s,tier=\"mem\"} %lld\n",
                  l.data, (long long)h->mem_budget);
    sl_buf_printf(&c->fam[H_BUDGET], "sluice_host_cache_budget_bytes{%s,tier=\"ssd\"} %lld\n",
                  l.data, (long long)h->ssd_budget);
    sl_buf_printf(&c->fam[H_SEEN], "sluice_host_last_seen_seconds{%s} %.3f\n", l.data,
                  h->last_seen > 0 ? c->now - h->last_seen : -1.0);
    sl_buf_free(&l);
    c->names = sl_xrealloc(c->names, (c->n + 1) * sizeof *c->names);
    c->names[c->n++] = sl_xstrdup(h->name);
    return 0;
}

static int running_cb(void *ctx, const char *host, int64_t n)
{
    host_ctx *c = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (c->names[i] && !strcmp(c->names[i], host)) {
            sl_buf l = SL_BUF_INIT;
            host_label(&l, host);
            sl_buf_printf(&c->fam[H_RUNNING], "sluice_host_running_tasks{%s} %lld\n", l.data,
                          (long long)n);
            sl_buf_free(&l);
            free(c->names[i]);
            c->names[i] = NULL;
        }
    return 0;
}

static int hosts_read(void *ctx, struct sl_store *st, sl_err *err)
{
    host_ctx *c = ctx;
    int rc = sl_store_hosts_each(st, host_cb, c, err);
    if (rc >= 0) rc = sl_store_running_by_host(st, running_cb, c, err);
    for (size_t i = 0; i < c->n; i++) {
        if (!c->names[i]) continue;
        sl_buf l = SL_BUF_INIT;
        host_label(&l, c->names[i]);
        sl_buf_printf(&c->fam[H_RUNNING], "sluice_host_running_tasks{%s} 0\n", l.data);
        sl_buf_free(&l);
        free(c->names[i]);
    }
    free(c->names);
    return rc < 0 ? rc : 0;
}

int sl_metrics_render(sl_sched *s, double forget_s, sl_buf *out, sl_err *err)
{
    render_ctx c = {0};
    c.now = sl_wall();
    c.forget_s = forget_s;
    int rc = sl_sched_status(s, NULL, pipe_cb, &c, err);
    for (int f = 0; f < F_NPIPE; f++) {
        head(out, FAM[f].name, FAM[f].type, FAM[f].help);
        if (c.fam[f].len) sl_buf_append(out, c.fam[f].data, c.fam[f].len);
        sl_buf_free(&c.fam[f]);
    }
    if (rc < 0) return rc;

    sl_sched_metrics m;
    sl_sched_metrics_get(s, &m);
    const struct {
        const char *name, *help;
        int64_t v;
    } ctr[] = {
        {"sluice_attempts_total", "Task attempts reported by agents.", m.attempts},
        {"sluice_retries_total", "Attempts that sent their task back to the queue.", m.retries},
        {"sluice_tasks_leased_total", "Tasks handed to agents.", m.leased},
        {"sluice_bytes_pulled_total", "Bytes of inputs agents copied to their host.",
         m.bytes_pulled},
        {"sluice_bytes_written_total", "Bytes of task output directories written.",
         m.bytes_written},
        {"sluice_corrupt_copies_total", "Copies reported not to match their manifest.", m.corrupt},
    };
    for (size_t i = 0; i < sizeof ctr / sizeof ctr[0]; i++) {
        head(out, ctr[i].name, "counter", ctr[i].help);
        sl_buf_printf(out, "%s %lld\n", ctr[i].name, (long long)ctr[i].v);
    }
    head(out, "sluice_queue_wait_seconds", "histogram",
         "Time from a task becoming ready to its lease.");
    hist(out, "sluice_queue_wait_seconds", "", &m.queue_wait);
    head(out, "sluice_dispatch_seconds", "histogram",
         "Duration of a leasing pass that handed out tasks.");
    hist(out, "sluice_dispatch_seconds", "", &m.dispatch);

    host_ctx h = {0};
    h.now = c.now;
    rc = sl_sched_with_store(s, hosts_read, &h, err);
    for (int f = 0; f < H_N; f++) {
        head(out, HFAM[f].name, "gauge", HFAM[f].help);
        if (h.fam[f].len) sl_buf_append(out, h.fam[f].data, h.fam[f].len);
        sl_buf_free(&h.fam[f]);
    }
    return rc < 0 ? rc : 0;
}

/* ---- the history ---- */
typedef struct {
    char **series;
    double *value;
    size_t n;
    double throughput; /* tasks done per second, all running stages */
} samples;

static void sample_add(samples *x, char *series, double v)
{
    x->series = sl_xrealloc(x->series, (x->n + 1) * sizeof *x->series);
    x->value = sl_xrealloc(x->value, (x->n + 1) * sizeof *x->value);
    x->series[x->n] = series;
    x->value[x->n++] = v;
}

static int sample_pipe(void *ctx, const sl_pipe_stat *ps)
{
    samples *x = ctx;
    if (strcmp(ps->state, "running") != 0) return 0;
    for (size_t k = 0; k < ps->nstages; k++) {
        const sl_stage_stat *s = &ps->stages[k];
        const char *name = s->name;
        long long id = (long long)ps->id;
        sample_add(x, sl_xasprintf("done:%lld:%s", id, name), (double)s->count[SL_TASK_DONE]);
        sample_add(x, sl_xasprintf("running:%lld:%s", id, name), (double)s->count[SL_TASK_RUNNING]);
        sample_add(x, sl_xasprintf("queued:%lld:%s", id, name), (double)s->count[SL_TASK_QUEUED]);
        sample_add(x, sl_xasprintf("failed:%lld:%s", id, name), (double)s->count[SL_TASK_FAILED]);
        sample_add(x, sl_xasprintf("rate:%lld:%s", id, name), s->rate);
        x->throughput += s->rate;
    }
    return 0;
}

static int sample_host(void *ctx, const sl_host_row *h)
{
    samples *x = ctx;
    sample_add(x, sl_xasprintf("cache_used:%s:mem", h->name), (double)h->mem_used);
    sample_add(x, sl_xasprintf("cache_used:%s:ssd", h->name), (double)h->ssd_used);
    return 0;
}

typedef struct {
    samples *x;
    double now;
    int keep_days;
} write_ctx;

static int history_write(void *ctx, struct sl_store *st, sl_err *err)
{
    write_ctx *w = ctx;
    int rc = sl_store_hosts_each(st, sample_host, w->x, err);
    if (rc < 0) return rc;
    if ((rc = sl_store_begin(st, err)) < 0) return rc;
    for (size_t i = 0; i < w->x->n && rc >= 0; i++)
        rc = sl_store_history_add(st, w->x->series[i], w->now, w->x->value[i], err);
    if (rc >= 0)
        rc = sl_store_history_rollup(st, w->now, SL_HISTORY_RAW_S, SL_HISTORY_BUCKET_S,
                                     w->keep_days * 86400.0, err);
    if (rc >= 0) rc = sl_store_commit(st, err);
    if (rc < 0) sl_store_rollback(st);
    return rc;
}

int sl_metrics_sample(sl_sched *s, double now, int keep_days, sl_err *err)
{
    samples x = {0};
    int rc = sl_sched_status(s, NULL, sample_pipe, &x, err);
    sample_add(&x, sl_xstrdup("throughput"), x.throughput);
    write_ctx w = {&x, now, keep_days > 0 ? keep_days : SL_HISTORY_DAYS};
    if (rc >= 0) rc = sl_sched_with_store(s, history_write, &w, err);
    for (size_t i = 0; i < x.n; i++)
        free(x.series[i]);
    free(x.series);
    free(x.value);
    return rc;
}

typedef struct {
    sl_buf *b;
    const char *prefix;
    double since;
    char *last; /* series of the row before */
} json_ctx;

static int json_row(void *ctx, const char *series, double t, double value, int step)
{
    json_ctx *j = ctx;
    (void)step;
    if (!j->last || strcmp(j->last, series) != 0) {
        sl_buf_puts(j->b, j->last ? "]," : "");
        sl_buf_json_str(j->b, series);
        sl_buf_puts(j->b, ":[");
        free(j->last);
        j->last = sl_xstrdup(series);
    } else {
        sl_buf_putc(j->b, ',');
    }
    sl_buf_printf(j->b, "[%.3f,%.6g]", t, value);
    return 0;
}

static int history_read(void *ctx, struct sl_store *st, sl_err *err)
{
    json_ctx *j = ctx;
    int64_t n =
        sl_store_history_each(st, j->prefix, j->since, SL_HISTORY_MAX_ROWS, json_row, j, err);
    return n < 0 ? (int)n : 0;
}

int sl_metrics_history_json(sl_sched *s, const char *series, const char *since, sl_buf *out,
                            sl_err *err)
{
    double now = sl_wall();
    double t = since && *since ? strtod(since, NULL) : -3600;
    if (t < 0) t = now + t;
    json_ctx j = {out, series ? series : "", t, NULL};
    sl_buf_printf(out, "{\"now\":%.3f,\"series\":{", now);
    int rc = sl_sched_with_store(s, history_read, &j, err);
    if (j.last) sl_buf_putc(out, ']');
    free(j.last);
    sl_buf_puts(out, "}}\n");
    return rc;
}
