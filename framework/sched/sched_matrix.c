/* sched_matrix.c - `sluice status --matrix`: a crosstab of one stage's task
 * states by two '/'-segments of the key, the view Scalebox users built by
 * hand with SQL crosstab queries (pointing group x time range, channel x
 * time). Every task of the stage is read once from the store (key, state);
 * keys of lazily expanded messages that are not tasks yet are enumerated
 * from their cursors and show as blank cells. Labels sort naturally (digit
 * runs compare as numbers). The scheduler lock is held while the stage is
 * read: a few hundred ms per million tasks. */
#include "sched/sched_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/template.h"

#define MAX_RECORDS 50000000
#define MAX_CELLS 4000000
#define ST_PENDING SL_TASK_NSTATES /* a key not yet expanded */

typedef struct {
    char **names;
    size_t n, cap;
    uint32_t *slots; /* hash table: index + 1, 0 = empty */
    size_t nslots;
} labels;

typedef struct {
    labels rows, cols;
    uint32_t *r, *c;
    uint8_t *st;
    size_t n, cap;
    int row_seg, col_seg;
    sl_err *err;
} acc;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void rehash(labels *l)
{
    free(l->slots);
    l->nslots = l->nslots ? l->nslots * 2 : 256;
    l->slots = sl_xcalloc(l->nslots, sizeof *l->slots);
    for (size_t i = 0; i < l->n; i++) {
        size_t j = hash(l->names[i], strlen(l->names[i])) & (l->nslots - 1);
        while (l->slots[j])
            j = (j + 1) & (l->nslots - 1);
        l->slots[j] = (uint32_t)(i + 1);
    }
}

static uint32_t intern(labels *l, const char *s, size_t n)
{
    if (2 * (l->n + 1) > l->nslots) rehash(l);
    size_t j = hash(s, n) & (l->nslots - 1);
    while (l->slots[j]) {
        const char *x = l->names[l->slots[j] - 1];
        if (strlen(x) == n && memcmp(x, s, n) == 0) return l->slots[j] - 1;
        j = (j + 1) & (l->nslots - 1);
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->names = sl_xrealloc(l->names, l->cap * sizeof *l->names);
    }
    l->names[l->n] = sl_xstrndup(s, n);
    l->slots[j] = (uint32_t)(l->n + 1);
    return (uint32_t)l->n++;
}

/* Segment seg (1-based, negative from the end) of key; "-" if none. */
static void segment(const char *key, int seg, const char **s, size_t *n)
{
    int nseg = 1;
    for (const char *c = key; *c; c++)
        nseg += *c == '/';
    int idx = seg > 0 ? seg : nseg + seg + 1;
    if (idx < 1 || idx > nseg) {
        *s = "-";
        *n = 1;
        return;
    }
    const char *c = key;
    for (int i = 1; i < idx; i++)
        c = strchr(c, '/') + 1;
    const char *e = strchr(c, '/');
    *s = c;
    *n = e ? (size_t)(e - c) : strlen(c);
}

/* Segments left to the keys' shape (0), chosen from the first key seen:
 * every key of a stage comes from the same templates, so one is enough. */
static void pick_segments(acc *a, const char *key)
{
    int nseg = 1;
    for (const char *c = key; *c; c++)
        nseg += *c == '/';
    int r = nseg >= 3 ? 2 : 1, c = nseg >= 3 ? 3 : 2; /* one segment: c shows as "-" */
    if (!a->row_seg) a->row_seg = r;
    if (!a->col_seg) a->col_seg = c;
}

static int record(void *ctx, const char *key, int state)
{
    acc *a = ctx;
    if (!a->row_seg || !a->col_seg) pick_segments(a, key);
    if (a->n >= MAX_RECORDS)
        return sl_errf(a->err, SL_EINVAL, "more than %d tasks: too many for a matrix", MAX_RECORDS);
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4096;
        a->r = sl_xrealloc(a->r, a->cap * sizeof *a->r);
        a->c = sl_xrealloc(a->c, a->cap * sizeof *a->c);
        a->st = sl_xrealloc(a->st, a->cap * sizeof *a->st);
    }
    const char *s;
    size_t n;
    segment(key, a->row_seg, &s, &n);
    a->r[a->n] = intern(&a->rows, s, n);
    segment(key, a->col_seg, &s, &n);
    a->c[a->n] = intern(&a->cols, s, n);
    a->st[a->n] = (uint8_t)(state >= 0 && state <= ST_PENDING ? state : SL_TASK_QUEUED);
    a->n++;
    return 0;
}

static int record_pending(void *ctx, const char *key)
{
    return record(ctx, key, ST_PENDING);
}

/* Natural order: runs of digits compare as numbers. */
static int natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t na = 0, nb = 0;
            while (isdigit((unsigned char)a[na]))
                na++;
            while (isdigit((unsigned char)b[nb]))
                nb++;
            if (na != nb) return na < nb ? -1 : 1;
            int c = memcmp(a, b, na);
            if (c) return c;
            a += na;
            b += nb;
        } else {
            if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

static char **sort_names;
static int cmp_idx(const void *x, const void *y)
{
    int c = natcmp(sort_names[*(const uint32_t *)x], sort_names[*(const uint32_t *)y]);
    return c ? c
             : (*(const uint32_t *)x > *(const uint32_t *)y) -
                   (*(const uint32_t *)x < *(const uint32_t *)y);
}

/* Sorts labels; rank[i] = position of label i; out gets the names. */
static uint32_t *order(labels *l, char ***out)
{
    uint32_t *idx = sl_xcalloc(l->n ? l->n : 1, sizeof *idx);
    uint32_t *rank = sl_xcalloc(l->n ? l->n : 1, sizeof *rank);
    for (size_t i = 0; i < l->n; i++)
        idx[i] = (uint32_t)i;
    sort_names = l->names; /* under the scheduler lock: one sort at a time */
    qsort(idx, l->n, sizeof *idx, cmp_idx);
    *out = sl_xcalloc(l->n ? l->n : 1, sizeof **out);
    for (size_t i = 0; i < l->n; i++) {
        rank[idx[i]] = (uint32_t)i;
        (*out)[i] = l->names[idx[i]];
    }
    free(idx);
    return rank;
}

static char cell_char(const int32_t *n)
{
    int64_t total = 0;
    for (int i = 0; i <= ST_PENDING; i++)
        total += n[i];
    if (n[SL_TASK_FAILED]) return 'F';
    if (n[SL_TASK_RUNNING]) return 'R';
    if (n[SL_TASK_DONE] && n[SL_TASK_DONE] == total) return 'D';
    if (n[SL_TASK_DONE]) return 'd';
    if (n[SL_TASK_QUEUED]) return '.';
    if (n[SL_TASK_CANCELLED]) return 'C';
    return ' ';
}

void sl_matrix_free(sl_matrix *m)
{
    for (size_t i = 0; i < m->nrows; i++)
        free(m->rows[i]);
    for (size_t i = 0; i < m->ncols; i++)
        free(m->cols[i]);
    free(m->rows);
    free(m->cols);
    free(m->cells);
    free(m->row_done);
    free(m->row_total);
    free(m->stage);
    memset(m, 0, sizeof *m);
}

static int build(sl_sched *s, sl_pipe *p, int stage, acc *a, sl_matrix *m, sl_err *err)
{
    int rc = sl_store_stage_keys(s->store, p->id, stage, record, a, err);
    for (size_t i = 0; i < p->nexp && rc >= 0; i++) {
        const sl_expansion *e = &p->exp[i];
        if (e->stage == stage && e->next < e->total)
            rc = sl_template_expand_at(e->tmpl, NULL, e->next, -1, record_pending, a, err);
    }
    if (rc < 0) return rc;
    if (a->rows.n * (a->cols.n ? a->cols.n : 1) > MAX_CELLS)
        return sl_errf(err, SL_EINVAL,
                       "the matrix would have %zu x %zu cells; choose other segments "
                       "(--rows, --cols)",
                       a->rows.n, a->cols.n);
    uint32_t *rr = order(&a->rows, &m->rows), *cr = order(&a->cols, &m->cols);
    m->nrows = a->rows.n;
    m->ncols = a->cols.n;
    a->rows.n = a->cols.n = 0; /* the names moved to m */
    size_t ncells = m->nrows * m->ncols;
    int32_t(*cnt)[ST_PENDING + 1] = sl_xcalloc(ncells ? ncells : 1, sizeof *cnt);
    m->row_done = sl_xcalloc(m->nrows ? m->nrows : 1, sizeof *m->row_done);
    m->row_total = sl_xcalloc(m->nrows ? m->nrows : 1, sizeof *m->row_total);
    for (size_t i = 0; i < a->n; i++) {
        uint32_t r = rr[a->r[i]], c = cr[a->c[i]];
        cnt[(size_t)r * m->ncols + c][a->st[i]]++;
        m->row_total[r]++;
        m->row_done[r] += a->st[i] == SL_TASK_DONE;
    }
    m->cells = sl_xmalloc(ncells + 1);
    for (size_t i = 0; i < ncells; i++)
        m->cells[i] = cell_char(cnt[i]);
    m->cells[ncells] = 0;
    free(cnt);
    free(rr);
    free(cr);
    return 0;
}

int sl_sched_matrix(sl_sched *s, const char *pipeline, const char *stage, int row_seg, int col_seg,
                    sl_matrix *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t id;
    int rc = sl_sched_find_pipeline(s, pipeline, &id, err);
    if (rc < 0) return rc;
    pthread_mutex_lock(&s->mu);
    sl_pipe *p = sl_sched_pipe(s, id);
    int k = 0;
    if (stage && *stage) {
        k = sl_pipeline_stage_index(p->model, stage);
        if (k < 0) {
            pthread_mutex_unlock(&s->mu);
            return sl_errf(err, SL_ENOTFOUND, "pipeline '%s' has no stage '%s'", p->model->name,
                           stage);
        }
    } else if (p->nexp) {
        k = p->exp[0].stage;
    }
    acc a = {.row_seg = row_seg, .col_seg = col_seg, .err = err};
    out->pipeline_id = id;
    out->stage = sl_xstrdup(p->model->stages[k].name);
    rc = build(s, p, k, &a, out, err);
    pthread_mutex_unlock(&s->mu);
    out->row_seg = a.row_seg ? a.row_seg : 2; /* no keys at all: the usual shape */
    out->col_seg = a.col_seg ? a.col_seg : 3;
    for (size_t i = 0; i < a.rows.n; i++)
        free(a.rows.names[i]);
    for (size_t i = 0; i < a.cols.n; i++)
        free(a.cols.names[i]);
    free(a.rows.names);
    free(a.cols.names);
    free(a.rows.slots);
    free(a.cols.slots);
    free(a.r);
    free(a.c);
    free(a.st);
    if (rc < 0) sl_matrix_free(out);
    return rc < 0 ? rc : 0;
}
