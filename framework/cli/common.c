/* common.c - helpers shared by the subcommands: controller address and
 * connection, error reports, durations, and the status table. */
#include <errno.h>
#include <math.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

const char *sl_cli_controller(const char *opt)
{
    if (opt && *opt) return opt;
    const char *e = getenv("SLUICE_CONTROLLER");
    if (e && *e) return e;
    /* a state directory names its controller in controller.addr (sluice run)
     * or addr (tests/cluster.sh) */
    static char addr[256];
    const char *st = getenv("SLUICE_STATE");
    const char *names[] = {"controller.addr", "addr"};
    for (size_t i = 0; st && *st && i < 2; i++) {
        char *p = sl_xasprintf("%s/%s", st, names[i]);
        FILE *f = fopen(p, "r");
        free(p);
        if (!f) continue;
        int ok = fgets(addr, sizeof addr, f) != NULL;
        fclose(f);
        addr[strcspn(addr, "\r\n")] = 0;
        if (ok && addr[0]) return addr;
    }
    return "127.0.0.1:7470";
}

const char *sl_cli_tls_ca(void)
{
    const char *e = getenv("SLUICE_TLS_CA");
    return e && *e ? e : NULL;
}

/* First line of path into out; 1 if read, 0 if there is no such file. */
static int read_line(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        sl_die(1, "cannot read the credential file %s: %s", path, strerror(errno));
    }
    int ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    if (!ok) sl_die(1, "the credential file %s is empty", path);
    out[strcspn(out, "\r\n")] = 0;
    return 1;
}

int sl_cli_credential(char *out, size_t n, char *from, size_t fn)
{
    const char *v;
    if ((v = getenv("SLUICE_TOKEN_FILE")) && *v) { /* --token-file sets it too */
        if (!read_line(v, out, n)) sl_die(1, "credential file %s does not exist", v);
        snprintf(from, fn, "%s", v);
        return 1;
    }
    if ((v = getenv("SLUICE_TOKEN")) && *v) {
        snprintf(out, n, "%s", v);
        snprintf(from, fn, "$SLUICE_TOKEN");
        return 1;
    }
    if ((v = getenv("SLUICE_STATE")) && *v) {
        snprintf(from, fn, "%s/secrets/user.token", v);
        if (read_line(from, out, n)) return 1;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(from, fn, "%s/sluice/token", xdg);
    else if (home && *home)
        snprintf(from, fn, "%s/.config/sluice/token", home);
    else
        from[0] = 0;
    if (from[0] && read_line(from, out, n)) return 1;
    snprintf(from, fn, "nowhere");
    out[0] = 0;
    return 0;
}

sl_rpc_client *sl_cli_connect(const char *addr)
{
    sl_err e = {0};
    char cred[512], from[1024];
    sl_cli_credential(cred, sizeof cred, from, sizeof from);
    const sl_rpc_tls tls = {sl_cli_tls_ca(), NULL, NULL};
    sl_rpc_client *c = sl_rpc_client_new(addr, &tls, cred[0] ? cred : NULL, &e);
    explicit_bzero(cred, sizeof cred);
    if (!c) sl_die(1, "%s", e.msg);
    return c;
}

void sl_cli_report(const char *addr, const sl_err *e)
{
    fprintf(stderr, "sluice: %s\n", e->msg);
    if (e->code == SL_EAUTH || e->code == SL_EPERM) {
        char cred[512], from[1024];
        int have = sl_cli_credential(cred, sizeof cred, from, sizeof from);
        explicit_bzero(cred, sizeof cred);
        fprintf(stderr,
                "hint: %s%s. The user credential is the controller's STATE/secrets/user.token: "
                "give it with --token-file FILE, $SLUICE_TOKEN_FILE, $SLUICE_TOKEN, "
                "$SLUICE_STATE=STATE, or copy it to ~/.config/sluice/token (see docs/cli.md).\n",
                have ? "the credential sent came from " : "no credential was found",
                have ? from : "");
        return;
    }
    if (e->code == SL_ERPC || e->code == SL_ETIMEOUT)
        fprintf(stderr,
                "hint: is a controller running at %s? Start one with 'sluice controller', "
                "point to it with --controller or $SLUICE_CONTROLLER, or use 'sluice run'.\n",
                addr);
}

int sl_cli_tty(void)
{
    return isatty(1) && !getenv("SLUICE_NO_TTY");
}

void sl_cli_fmt_duration(char *out, size_t n, double s)
{
    if (s < 0 || !isfinite(s))
        snprintf(out, n, "-");
    else if (s < 60)
        snprintf(out, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(out, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

int sl_cli_parse_int(const char *what, const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) {
        fprintf(stderr, "sluice: %s must be an integer, not '%s'\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

int sl_cli_usage(const char *text, int misuse)
{
    fputs(text, misuse ? stderr : stdout);
    return misuse ? 2 : 0;
}

static void json_str(FILE *f, const char *s)
{
    sl_buf b = SL_BUF_INIT;
    sl_buf_json_str(&b, s ? s : "");
    fputs(b.data, f);
    sl_buf_free(&b);
}

void sl_cli_print_status(FILE *f, const Sluice__V1__StatusReply *st, int json)
{
    if (json) {
        fputs("[", f);
        for (size_t i = 0; i < st->n_pipelines; i++) {
            const Sluice__V1__PipelineStatus *p = st->pipelines[i];
            fprintf(f, "%s{\"id\":%lld,\"name\":", i ? "," : "", (long long)p->pipeline_id);
            json_str(f, p->name);
            fputs(",\"state\":", f);
            json_str(f, p->state);
            fprintf(f, ",\"created\":%.3f,\"finished\":%.3f,\"stages\":[", p->created, p->finished);
            for (size_t k = 0; k < p->n_stages; k++) {
                const Sluice__V1__StageStatus *s = p->stages[k];
                fprintf(f, "%s{\"name\":", k ? "," : "");
                json_str(f, s->name);
                fprintf(f,
                        ",\"queued\":%lld,\"running\":%lld,\"done\":%lld,\"failed\":%lld,"
                        "\"cancelled\":%lld,\"waiting\":%lld,\"rate\":%.3f,\"eta_s\":%.1f,"
                        "\"pending\":%lld}",
                        (long long)s->queued, (long long)s->running, (long long)s->done,
                        (long long)s->failed, (long long)s->cancelled, (long long)s->waiting,
                        s->rate, s->eta_s, (long long)s->pending);
            }
            fputs("]}", f);
        }
        fputs("]\n", f);
        return;
    }
    for (size_t i = 0; i < st->n_pipelines; i++) {
        const Sluice__V1__PipelineStatus *p = st->pipelines[i];
        char el[32];
        double end = p->finished > 0 ? p->finished : 0;
        if (end <= 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            end = ts.tv_sec + ts.tv_nsec / 1e9;
        }
        sl_cli_fmt_duration(el, sizeof el, end - p->created);
        fprintf(f, "pipeline %s (#%lld): %s, %s\n", p->name, (long long)p->pipeline_id, p->state,
                el);
        for (size_t w = 0; w < p->n_warnings; w++)
            fprintf(f, "  warning: %s\n", p->warnings[w]);
        /* PENDING (keys of lazy messages not yet tasks) only when there are some */
        int pend = 0;
        for (size_t k = 0; k < p->n_stages; k++)
            pend |= p->stages[k]->pending > 0;
        fprintf(f, "  %-18s %8s %7s %7s %6s %6s %9s %8s %7s%s\n", "STAGE", "DONE", "RUNNING",
                "QUEUED", "WAIT", "FAILED", "CANCELLED", "RATE/s", "ETA", pend ? "   PENDING" : "");
        for (size_t k = 0; k < p->n_stages; k++) {
            const Sluice__V1__StageStatus *s = p->stages[k];
            char eta[32], pn[32] = "";
            sl_cli_fmt_duration(eta, sizeof eta, s->eta_s);
            if (pend) snprintf(pn, sizeof pn, " %9lld", (long long)s->pending);
            fprintf(f, "  %-18s %8lld %7lld %7lld %6lld %6lld %9lld %8.1f %7s%s\n", s->name,
                    (long long)s->done, (long long)s->running, (long long)s->queued,
                    (long long)s->waiting, (long long)s->failed, (long long)s->cancelled, s->rate,
                    eta, pn);
        }
    }
}
