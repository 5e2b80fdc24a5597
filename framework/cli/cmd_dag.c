/* cmd_dag.c - `sluice dag`: the stage graph of a pipeline file in Graphviz
 * DOT, drawn from the validated model alone (no controller). Stages are
 * nodes labelled with their placement and slots, emits are edges labelled
 * with their key template, edges into a gather stage are dashed with a
 * diamond head, and the initial messages enter from a point node. With
 * --svg the DOT text is piped to Graphviz's `dot -Tsvg`. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "pipeline/template.h"

static const char USAGE[] =
    "usage: sluice dag [--env-file FILE] [--svg OUT.svg] FILE.yaml\n\n"
    "Prints the stage graph of FILE.yaml in Graphviz DOT: stages with their\n"
    "placement and slots, emits edges labelled with the key template (bold:\n"
    "stream), edges into a gather stage dashed with a diamond head. With --svg\n"
    "runs `dot -Tsvg` (Graphviz) to write OUT.svg instead. No controller needed.\n";

/* A DOT double-quoted string: '"' and '\' escaped, newlines as \n. */
static void dot_str(sl_buf *b, const char *s)
{
    sl_buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sl_buf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            sl_buf_puts(b, "\\n");
        else
            sl_buf_append(b, s, 1);
    }
    sl_buf_puts(b, "\"");
}

/* The DOT text of a validated pipeline. */
static void dag_dot(const sl_pipeline *p, sl_buf *b)
{
    sl_buf_puts(b, "digraph ");
    dot_str(b, p->name);
    sl_buf_puts(b, " {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", "
                   "fillcolor=\"#eef3fb\", fontname=\"Helvetica\"];\n"
                   "  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (size_t i = 0; i < p->nstages; i++) {
        const sl_stage *s = &p->stages[i];
        char label[512];
        int n = snprintf(label, sizeof label, "%s\n%s, %d slot%s", s->name,
                         sl_placement_name(s->placement), s->slots, s->slots == 1 ? "" : "s");
        if (s->group && n > 0 && (size_t)n < sizeof label)
            n += snprintf(label + n, sizeof label - (size_t)n, " (%s)", s->group);
        if (s->gather && n > 0 && (size_t)n < sizeof label)
            n += snprintf(label + n, sizeof label - (size_t)n, "\ngather %d", s->gather);
        if (strcmp(s->runtime, "process") && n > 0 && (size_t)n < sizeof label)
            snprintf(label + n, sizeof label - (size_t)n, "\n%s", s->runtime);
        sl_buf_puts(b, "  ");
        dot_str(b, s->name);
        sl_buf_puts(b, " [label=");
        dot_str(b, label);
        if (s->gather) sl_buf_puts(b, ", fillcolor=\"#fdf1dc\"");
        sl_buf_puts(b, "];\n");
    }
    for (size_t i = 0; i < p->nstages; i++) {
        const sl_stage *s = &p->stages[i];
        for (size_t j = 0; j < s->nemits; j++) {
            const sl_emit *e = &s->emits[j];
            const sl_stage *to = &p->stages[e->to_index];
            sl_buf_puts(b, "  ");
            dot_str(b, s->name);
            sl_buf_puts(b, " -> ");
            dot_str(b, to->name);
            sl_buf_puts(b, " [label=");
            dot_str(b, e->key ? e->key : "{key}");
            if (to->gather) sl_buf_puts(b, ", style=dashed, arrowhead=diamond, class=gather");
            if (e->stream) sl_buf_puts(b, ", penwidth=2.5");
            sl_buf_puts(b, "];\n");
        }
    }
    for (size_t i = 0; i < p->nmessages; i++) {
        const sl_message *m = &p->messages[i];
        sl_err e = {0};
        int64_t count = sl_template_count(m->key, &e);
        char node[32], label[640];
        snprintf(node, sizeof node, "message %zu", i + 1);
        snprintf(label, sizeof label, "%s (%lld)", m->key, (long long)(count > 0 ? count : 0));
        sl_buf_puts(b, "  ");
        dot_str(b, node);
        sl_buf_puts(b, " [shape=point, width=0.12];\n  ");
        dot_str(b, node);
        sl_buf_puts(b, " -> ");
        dot_str(b, m->to);
        sl_buf_puts(b, " [label=");
        dot_str(b, label);
        if (p->stages[m->to_index].gather) sl_buf_puts(b, ", style=dashed, arrowhead=diamond");
        sl_buf_puts(b, "];\n");
    }
    sl_buf_puts(b, "}\n");
}

/* Pipes the DOT text to `dot -Tsvg -o OUT`; returns the exit code. */
static int dag_svg(const sl_buf *dot, const char *out)
{
    int fd[2];
    if (pipe(fd) < 0) {
        perror("sluice: pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("sluice: fork");
        return 1;
    }
    if (pid == 0) {
        dup2(fd[0], 0);
        close(fd[0]);
        close(fd[1]);
        execlp("dot", "dot", "-Tsvg", "-o", out, (char *)NULL);
        _exit(errno == ENOENT ? 127 : 126);
    }
    close(fd[0]);
    size_t off = 0;
    while (off < dot->len) {
        ssize_t w = write(fd[1], dot->data + off, dot->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* dot exited early: its status says why */
        off += (size_t)w;
    }
    close(fd[1]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code == 127) {
        fprintf(stderr, "sluice: --svg needs Graphviz's `dot`, which is not on PATH; install "
                        "Graphviz (apt-get install graphviz) or pipe the DOT text from "
                        "`sluice dag FILE.yaml` to another renderer\n");
        return 1;
    }
    if (code) {
        fprintf(stderr, "sluice: dot -Tsvg failed (exit %d)\n", code);
        return 1;
    }
    return 0;
}

int cmd_dag(int argc, char **argv)
{
    static const struct option opts[] = {
        {"env-file", 1, 0, 'e'}, {"svg", 1, 0, 's'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *env_file = NULL, *svg = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            env_file = optarg;
            break;
        case 's':
            svg = optarg;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind != argc - 1) return sl_cli_usage(USAGE, 1);
    sl_err e = {0};
    sl_varsrc src = {.use_environ = 1, .env_file = env_file};
    sl_pipeline *p = sl_pipeline_load(argv[optind], &src, &e);
    if (!p) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    sl_buf b = SL_BUF_INIT;
    dag_dot(p, &b);
    sl_pipeline_free(p);
    int rc = 0;
    if (svg)
        rc = dag_svg(&b, svg);
    else
        fputs(b.data, stdout);
    sl_buf_free(&b);
    return rc;
}
