/* cmd_report.c - `sluice report`: one self-contained HTML file about a
 * pipeline (inline CSS and SVG, no network): a timeline of every attempt
 * per host and slot, per-stage durations and queue waits, and the failures
 * with their errors and log tails. The data comes from the controller's API
 * (Status, ListTasks, TaskLogs per task). Agents do not record which slot
 * ran an attempt, so slot lanes are rebuilt from the attempt times: each
 * attempt takes the first lane of its host that is free when it starts. */
#include <getopt.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: sluice report [--controller ADDR] [-o FILE.html] PIPELINE\n\n"
    "Writes one self-contained HTML file (default sluice-report-ID.html): a\n"
    "timeline of every task attempt per host and slot (colour by stage,\n"
    "failed attempts outlined in red), per-stage durations and queue waits\n"
    "(min/median/p95/max), and the failures with their errors and log tails.\n";

typedef struct {
    const Sluice__V1__TaskInfo *task;
    const Sluice__V1__AttemptInfo *a;
    int stage, lane, failed;
    double wait; /* queue wait before this attempt, -1 if unknown */
} rep_attempt;

static const char *const COLOURS[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
                                      "#edc948", "#9c755f", "#ff9da7", "#bab0ac", "#86bcb6"};
#define NCOLOURS (sizeof COLOURS / sizeof COLOURS[0])

static void esc(sl_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            sl_buf_puts(b, "&lt;");
            break;
        case '>':
            sl_buf_puts(b, "&gt;");
            break;
        case '&':
            sl_buf_puts(b, "&amp;");
            break;
        case '"':
            sl_buf_puts(b, "&quot;");
            break;
        default:
            sl_buf_append(b, s, 1);
        }
    }
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static int cmp_attempt(const void *x, const void *y)
{
    const rep_attempt *a = x, *b = y;
    int c = strcmp(a->a->host, b->a->host);
    if (c) return c;
    return a->a->started < b->a->started ? -1 : a->a->started > b->a->started;
}

/* min / median / p95 / max of v (sorted in place), nearest rank. */
static void stats_row(sl_buf *b, double *v, size_t n)
{
    if (!n) {
        sl_buf_puts(b, "<td>-</td><td>-</td><td>-</td><td>-</td>");
        return;
    }
    qsort(v, n, sizeof *v, cmp_double);
    size_t p95 = (size_t)ceil(0.95 * (double)n);
    double q[4] = {v[0], v[(n - 1) / 2], v[p95 ? p95 - 1 : 0], v[n - 1]};
    for (int i = 0; i < 4; i++)
        sl_buf_printf(b, "<td>%.3f</td>", q[i]);
}

static int stage_of(const Sluice__V1__PipelineStatus *ps, const char *name)
{
    for (size_t i = 0; i < ps->n_stages; i++)
        if (!strcmp(ps->stages[i]->name, name)) return (int)i;
    return 0;
}

/* The tail of s, at most n bytes. */
static const char *tail(const char *s, size_t n)
{
    size_t l = strlen(s);
    return l > n ? s + l - n : s;
}

static void write_html(sl_buf *b, const Sluice__V1__PipelineStatus *ps, rep_attempt *at, size_t na,
                       size_t ntasks)
{
    double t0 = ps->created, t1 = ps->finished > 0 ? ps->finished : (double)time(NULL);
    for (size_t i = 0; i < na; i++) {
        if (at[i].a->started > 0 && at[i].a->started < t0) t0 = at[i].a->started;
        if (at[i].a->finished > t1) t1 = at[i].a->finished;
    }
    if (t1 <= t0) t1 = t0 + 1;
    /* lanes: per host, the first lane free when the attempt starts */
    qsort(at, na, sizeof *at, cmp_attempt);
    size_t nlanes_total = 0;
    double lane_end[4096];
    for (size_t i = 0; i < na;) {
        size_t j = i, nl = 0;
        for (; j < na && !strcmp(at[j].a->host, at[i].a->host); j++) {
            double end = at[j].a->finished > 0 ? at[j].a->finished : t1;
            size_t l = 0;
            while (l < nl && lane_end[l] > at[j].a->started + 1e-6)
                l++;
            if (l == nl && nl < 4096) nl++;
            if (l >= nl) l = nl - 1;
            lane_end[l] = end;
            at[j].lane = (int)(nlanes_total + l);
        }
        nlanes_total += nl;
        i = j;
    }
    const int LW = 170, PW = 1000, LH = 16, TOP = 24;
    int height = TOP + (int)nlanes_total * LH + 10;
    char el[32];
    if (t1 - t0 < 60)
        snprintf(el, sizeof el, "%.2fs", t1 - t0);
    else
        sl_cli_fmt_duration(el, sizeof el, t1 - t0);
    sl_buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sluice report: ");
    esc(b, ps->name);
    sl_buf_puts(b, "</title>\n<style>\nbody{font-family:Helvetica,Arial,sans-serif;margin:20px;"
                   "color:#222}\ntable{border-collapse:collapse;margin:8px 0}\ntd,th{border:1px "
                   "solid #ccc;padding:3px 8px;text-align:right}\nth{background:#f3f3f3}\n"
                   "td:first-child{text-align:left}\npre{background:#f7f7f7;padding:6px;"
                   "max-height:12em;overflow:auto;white-space:pre-wrap}\n.failed{stroke:#d00;"
                   "stroke-width:2}\n.legend span{display:inline-block;padding:2px 8px;"
                   "margin:2px;color:#fff;border-radius:3px}\n</style></head><body>\n<h1>");
    esc(b, ps->name);
    sl_buf_printf(b, " (#%lld)</h1>\n<p>state <b>", (long long)ps->pipeline_id);
    esc(b, ps->state);
    sl_buf_printf(b, "</b>, %zu task(s), %zu attempt(s), span %s</p>\n<div class=\"legend\">",
                  ntasks, na, el);
    for (size_t s = 0; s < ps->n_stages; s++) {
        sl_buf_printf(b, "<span style=\"background:%s\">", COLOURS[s % NCOLOURS]);
        esc(b, ps->stages[s]->name);
        sl_buf_puts(b, "</span>");
    }
    sl_buf_printf(b,
                  "</div>\n<h2>Timeline</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                  "width=\"%d\" height=\"%d\" font-size=\"11\">\n",
                  LW + PW + 20, height);
    for (int k = 0; k <= 10; k++) { /* axis: 10 divisions */
        int x = LW + PW * k / 10;
        char d[32];
        double dt = (t1 - t0) * k / 10;
        if (t1 - t0 < 100)
            snprintf(d, sizeof d, "%.*fs", t1 - t0 < 10 ? 2 : 1, dt);
        else
            sl_cli_fmt_duration(d, sizeof d, dt);
        sl_buf_printf(b,
                      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                      "<text x=\"%d\" y=\"14\" text-anchor=\"middle\">%s</text>\n",
                      x, TOP - 4, x, height, x, d);
    }
    const char *prev_host = NULL;
    for (size_t i = 0; i < na; i++) {
        const rep_attempt *r = &at[i];
        int y = TOP + r->lane * LH;
        if (!prev_host || strcmp(prev_host, r->a->host)) {
            sl_buf_printf(b, "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", y,
                          LW + PW, y);
            sl_buf_printf(b, "<text x=\"2\" y=\"%d\">", y + 12);
            esc(b, r->a->host[0] ? r->a->host : "(no host)");
            sl_buf_puts(b, "</text>\n");
            prev_host = r->a->host;
        }
        double st = r->a->started > 0 ? r->a->started : t0;
        double fin = r->a->finished > 0 ? r->a->finished : t1;
        double x = LW + PW * (st - t0) / (t1 - t0), w = PW * (fin - st) / (t1 - t0);
        if (w < 1) w = 1;
        sl_buf_printf(b,
                      "<rect class=\"attempt%s\" data-task=\"%lld\" data-attempt=\"%d\" "
                      "x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                      r->failed ? " failed" : "", (long long)r->task->id, r->a->n, x, y + 1, w,
                      LH - 3, COLOURS[r->stage % NCOLOURS]);
        esc(b, r->task->stage);
        sl_buf_puts(b, " ");
        esc(b, r->task->key);
        sl_buf_printf(b, " (task %lld, attempt %d, exit %d, %.3f s)", (long long)r->task->id,
                      r->a->n, r->a->exit_code, fin - st);
        if (r->a->error[0]) {
            sl_buf_puts(b, ": ");
            esc(b, r->a->error);
        }
        sl_buf_puts(b, "</title></rect>\n");
    }
    sl_buf_puts(b, "</svg>\n<h2>Stages (seconds)</h2>\n<table><tr><th>stage</th><th>attempts"
                   "</th><th>failed</th><th>run min</th><th>median</th><th>p95</th><th>max</th>"
                   "<th>queue wait min</th><th>median</th><th>p95</th><th>max</th></tr>\n");
    double *dur = sl_xcalloc(na + 1, sizeof *dur), *wait = sl_xcalloc(na + 1, sizeof *wait);
    for (size_t s = 0; s < ps->n_stages; s++) {
        size_t nd = 0, nw = 0, nf = 0, n = 0;
        for (size_t i = 0; i < na; i++) {
            if (at[i].stage != (int)s) continue;
            n++;
            nf += at[i].failed;
            if (at[i].a->finished > 0 && at[i].a->started > 0)
                dur[nd++] = at[i].a->finished - at[i].a->started;
            if (at[i].wait >= 0) wait[nw++] = at[i].wait;
        }
        sl_buf_puts(b, "<tr><td>");
        esc(b, ps->stages[s]->name);
        sl_buf_printf(b, "</td><td>%zu</td><td>%zu</td>", n, nf);
        stats_row(b, dur, nd);
        stats_row(b, wait, nw);
        sl_buf_puts(b, "</tr>\n");
    }
    free(dur);
    free(wait);
    sl_buf_puts(b, "</table>\n<h2>Failures</h2>\n");
    size_t shown = 0, nfail = 0;
    for (size_t i = 0; i < na; i++) {
        const rep_attempt *r = &at[i];
        if (!r->failed) continue;
        if (++nfail > 200) continue;
        shown++;
        sl_buf_puts(b, "<div class=\"failure\"><h3>");
        esc(b, r->task->stage);
        sl_buf_puts(b, " ");
        esc(b, r->task->key);
        sl_buf_printf(b, "</h3><p>task %lld, attempt %d on ", (long long)r->task->id, r->a->n);
        esc(b, r->a->host);
        sl_buf_printf(b, ": exit %d", r->a->exit_code);
        if (r->a->error[0]) {
            sl_buf_puts(b, ", <b>");
            esc(b, r->a->error);
            sl_buf_puts(b, "</b>");
        }
        sl_buf_printf(b, " (task now %s)</p>\n", r->task->state);
        if (r->a->stderr_tail[0]) {
            sl_buf_puts(b, "<pre>[stderr]\n");
            esc(b, tail(r->a->stderr_tail, 2048));
            sl_buf_puts(b, "</pre>\n");
        }
        if (r->a->stdout_tail[0]) {
            sl_buf_puts(b, "<pre>[stdout]\n");
            esc(b, tail(r->a->stdout_tail, 2048));
            sl_buf_puts(b, "</pre>\n");
        }
        sl_buf_puts(b, "</div>\n");
    }
    if (!nfail) sl_buf_puts(b, "<p>none</p>\n");
    if (nfail > shown) sl_buf_printf(b, "<p>... and %zu more failed attempts</p>\n", nfail - shown);
    sl_buf_puts(b, "<h2>Data moved between hosts</h2>\n<p>Not in this report yet: the "
                   "controller's catalog forgets copies when their objects are deleted.</p>\n"
                   "</body></html>\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"controller", 1, 0, 'c'}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *ctl = NULL, *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind != argc - 1) return sl_cli_usage(USAGE, 1);
    const char *addr = sl_cli_controller(ctl);
    sl_rpc_client *cl = sl_cli_connect(addr);
    sl_err e = {0};
    int rc = 1;
    Sluice__V1__StatusRequest sreq = SLUICE__V1__STATUS_REQUEST__INIT;
    sreq.pipeline = argv[optind];
    Sluice__V1__StatusReply *srep = NULL;
    Sluice__V1__ListTasksReply **pages = NULL;
    Sluice__V1__TaskLogsReply **logs = NULL;
    rep_attempt *at = NULL;
    size_t npages = 0, ntasks = 0, nlogs = 0, na = 0, cap = 0;
    if (SL_CALL(cl, "Status", status_request, &sreq, status_reply, srep, 30000, &e) < 0) {
        sl_cli_report(addr, &e);
        goto done;
    }
    if (srep->n_pipelines != 1) {
        fprintf(stderr, "sluice: %zu pipelines match '%s'; give one name or id\n",
                srep->n_pipelines, argv[optind]);
        goto done;
    }
    const Sluice__V1__PipelineStatus *ps = srep->pipelines[0];
    char pid[32];
    snprintf(pid, sizeof pid, "%lld", (long long)ps->pipeline_id);
    for (int64_t after = 0;;) { /* every task, a page at a time */
        Sluice__V1__ListTasksRequest lreq = SLUICE__V1__LIST_TASKS_REQUEST__INIT;
        lreq.pipeline = pid;
        lreq.limit = 1000;
        lreq.after_id = after;
        Sluice__V1__ListTasksReply *lrep = NULL;
        if (SL_CALL(cl, "ListTasks", list_tasks_request, &lreq, list_tasks_reply, lrep, 30000, &e) <
            0) {
            sl_cli_report(addr, &e);
            goto done;
        }
        pages = sl_xrealloc(pages, (npages + 1) * sizeof *pages);
        pages[npages++] = lrep;
        ntasks += lrep->n_tasks;
        if (lrep->n_tasks == 0 || lrep->n_tasks < 1000) break;
        after = lrep->tasks[lrep->n_tasks - 1]->id;
    }
    for (size_t p = 0; p < npages; p++) {
        for (size_t i = 0; i < pages[p]->n_tasks; i++) {
            const Sluice__V1__TaskInfo *t = pages[p]->tasks[i];
            if (t->attempts == 0 && t->started <= 0) continue;
            Sluice__V1__TaskLogsRequest treq = SLUICE__V1__TASK_LOGS_REQUEST__INIT;
            treq.task_id = t->id;
            Sluice__V1__TaskLogsReply *trep = NULL;
            if (SL_CALL(cl, "TaskLogs", task_logs_request, &treq, task_logs_reply, trep, 30000,
                        &e) < 0) {
                sl_cli_report(addr, &e);
                goto done;
            }
            logs = sl_xrealloc(logs, (nlogs + 1) * sizeof *logs);
            logs[nlogs++] = trep;
            int stage = stage_of(ps, t->stage);
            for (size_t k = 0; k < trep->n_attempts; k++) {
                const Sluice__V1__AttemptInfo *a = trep->attempts[k];
                if (na == cap) at = sl_xrealloc(at, (cap = cap ? 2 * cap : 256) * sizeof *at);
                rep_attempt *r = &at[na++];
                r->task = t;
                r->a = a;
                r->stage = stage;
                r->lane = 0;
                r->failed = a->exit_code != 0 || a->error[0];
                /* the first attempt waited since the task became ready (or
                 * was made); a retry since the attempt before it ended */
                double since = k ? trep->attempts[k - 1]->finished
                                 : (trep->n_attempts == 1 && t->ready > 0 ? t->ready : t->created);
                r->wait =
                    a->started > 0 && since > 0 && a->started >= since ? a->started - since : -1;
            }
        }
    }
    sl_buf html = SL_BUF_INIT;
    write_html(&html, ps, at, na, ntasks);
    char def[64];
    snprintf(def, sizeof def, "sluice-report-%s.html", pid);
    if (!out) out = def;
    FILE *f = fopen(out, "w");
    if (!f || fwrite(html.data, 1, html.len, f) != html.len || fclose(f) != 0) {
        fprintf(stderr, "sluice: cannot write %s: %m\n", out);
        sl_buf_free(&html);
        goto done;
    }
    printf("wrote %s: %zu task(s), %zu attempt(s)\n", out, ntasks, na);
    sl_buf_free(&html);
    rc = 0;
done:
    free(at);
    for (size_t i = 0; i < nlogs; i++)
        sluice__v1__task_logs_reply__free_unpacked(logs[i], NULL);
    for (size_t i = 0; i < npages; i++)
        sluice__v1__list_tasks_reply__free_unpacked(pages[i], NULL);
    free(logs);
    free(pages);
    if (srep) sluice__v1__status_reply__free_unpacked(srep, NULL);
    sl_rpc_client_free(cl);
    return rc;
}
