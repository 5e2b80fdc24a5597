/* cmd_matrix.c - `sluice status --matrix PIPELINE`: one stage's task states
 * as a crosstab of two key segments (pointing group x time range, channel x
 * time), one character per cell and the done count per row; the crosstab
 * Scalebox users wrote by hand in SQL. Text for people, --json for scripts.
 * The controller builds the matrix (Matrix RPC, framework/sched/
 * sched_matrix.c); this file only prints it. */
#include <string.h>

#include "cli/cli.h"

static void json_str(FILE *f, const char *s)
{
    sl_buf b = SL_BUF_INIT;
    sl_buf_json_str(&b, s ? s : "");
    fputs(b.data, f);
    sl_buf_free(&b);
}

static void print_json(FILE *f, const Sluice__V1__MatrixReply *m, int rs, int cs)
{
    fprintf(f, "{\"pipeline_id\":%lld,\"stage\":", (long long)m->pipeline_id);
    json_str(f, m->stage);
    fprintf(f, ",\"row_segment\":%d,\"col_segment\":%d,\"rows\":[", rs, cs);
    for (size_t i = 0; i < m->n_rows; i++) {
        fputs(i ? "," : "", f);
        json_str(f, m->rows[i]);
    }
    fputs("],\"cols\":[", f);
    for (size_t i = 0; i < m->n_cols; i++) {
        fputs(i ? "," : "", f);
        json_str(f, m->cols[i]);
    }
    fputs("],\"cells\":[", f);
    for (size_t i = 0; i < m->n_cells; i++) {
        fputs(i ? "," : "", f);
        json_str(f, m->cells[i]);
    }
    fputs("],\"row_done\":[", f);
    for (size_t i = 0; i < m->n_row_done; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)m->row_done[i]);
    fputs("],\"row_total\":[", f);
    for (size_t i = 0; i < m->n_row_total; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)m->row_total[i]);
    fputs("]}\n", f);
}

static void print_text(FILE *f, const Sluice__V1__MatrixReply *m, int rs, int cs)
{
    int w = 4;
    for (size_t i = 0; i < m->n_rows; i++)
        if ((int)strlen(m->rows[i]) > w) w = (int)strlen(m->rows[i]);
    int64_t done = 0, total = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        done += m->row_done[i];
        total += m->row_total[i];
    }
    fprintf(f,
            "pipeline #%lld, stage %s: %lld of %lld done; rows: key segment %d, columns: "
            "segment %d\n",
            (long long)m->pipeline_id, m->stage, (long long)done, (long long)total, rs, cs);
    if (m->n_cols)
        fprintf(f, "columns 1..%zu: %s .. %s\n", m->n_cols, m->cols[0], m->cols[m->n_cols - 1]);
    fprintf(f, "cells: ' ' not expanded yet, . queued, R running, d partly done, D done, "
               "F failed, C cancelled\n");
    /* a ruler: a digit every 10 columns */
    fprintf(f, "%*s |", w, "");
    for (size_t c = 0; c < m->n_cols; c++)
        fputc((c + 1) % 10 == 0 ? (char)('0' + ((c + 1) / 10) % 10) : ' ', f);
    fputs("|\n", f);
    for (size_t r = 0; r < m->n_rows; r++)
        fprintf(f, "%-*s |%s| %lld/%lld\n", w, m->rows[r], r < m->n_cells ? m->cells[r] : "",
                (long long)m->row_done[r], (long long)m->row_total[r]);
}

int sl_cli_matrix(const char *ctl, const char *pipeline, const char *stage, int rows, int cols,
                  int json)
{
    const char *addr = sl_cli_controller(ctl);
    sl_rpc_client *cl = sl_cli_connect(addr);
    Sluice__V1__MatrixRequest req = SLUICE__V1__MATRIX_REQUEST__INIT;
    req.pipeline = (char *)pipeline;
    req.stage = (char *)(stage ? stage : "");
    req.row_segment = rows;
    req.col_segment = cols;
    Sluice__V1__MatrixReply *rep = NULL;
    sl_err e = {0};
    int rc = SL_CALL(cl, "Matrix", matrix_request, &req, matrix_reply, rep, 60000, &e);
    sl_rpc_client_free(cl);
    if (rc < 0) {
        sl_cli_report(addr, &e);
        return 1;
    }
    /* an older controller does not say which segments it chose */
    rows = rep->row_segment ? rep->row_segment : rows ? rows : 2;
    cols = rep->col_segment ? rep->col_segment : cols ? cols : 3;
    if (json)
        print_json(stdout, rep, rows, cols);
    else
        print_text(stdout, rep, rows, cols);
    sluice__v1__matrix_reply__free_unpacked(rep, NULL);
    return 0;
}
