/* test_http_server.c - the controller's HTTP page (controller/http.c) over a
 * real scheduler and SQLite store, with a user token given on the command
 * line. For tests/integration/test_http_auth.sh until the controller's
 * secrets store hands its user credential to the page; not a product binary.
 *
 * usage: sl-http-test-server --state DIR --http ADDR [--token T] [--submit FILE]
 * Prints the bound port on stdout, then serves until SIGTERM or SIGINT. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller/http.h"
#include "sched/sched.h"
#include "util/buf.h"

static int read_all(const char *path, sl_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sl_buf_append(out, chunk, n);
    fclose(f);
    sl_buf_putc(out, 0);
    return 0;
}

int main(int argc, char **argv)
{
    const char *state = NULL, *addr = "127.0.0.1:0", *token = NULL, *submit = NULL;
    static const struct option opts[] = {{"state", 1, 0, 's'},
                                         {"http", 1, 0, 'H'},
                                         {"token", 1, 0, 't'},
                                         {"submit", 1, 0, 'f'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            state = optarg;
            break;
        case 'H':
            addr = optarg;
            break;
        case 't':
            token = optarg;
            break;
        case 'f':
            submit = optarg;
            break;
        default:
            fprintf(stderr, "usage: sl-http-test-server --state DIR --http ADDR [--token T] "
                            "[--submit FILE]\n");
            return 2;
        }
    }
    if (!state) {
        fprintf(stderr, "sl-http-test-server: --state DIR is required\n");
        return 2;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    sl_err e = {0};
    char *db = sl_xasprintf("%s/sluice.db", state);
    sl_sched_config sc = {"dp-token", db, 30000, 0};
    sl_sched *s = NULL;
    if (sl_sched_open(&sc, &s, &e) < 0) {
        fprintf(stderr, "sl-http-test-server: %s\n", e.msg);
        return 1;
    }
    free(db);
    if (submit) {
        sl_buf yaml = SL_BUF_INIT;
        int64_t pid = 0, n = 0;
        if (read_all(submit, &yaml) < 0) {
            fprintf(stderr, "sl-http-test-server: cannot read %s\n", submit);
            return 1;
        }
        if (sl_sched_submit(s, submit, yaml.data, NULL, 0, &pid, &n, &e) < 0) {
            fprintf(stderr, "sl-http-test-server: %s\n", e.msg);
            return 1;
        }
        sl_buf_free(&yaml);
    }
    sl_http_config hc = {addr, token};
    int port = 0;
    sl_http *h = sl_http_start(&hc, s, &port, &e);
    if (!h) {
        fprintf(stderr, "sl-http-test-server: %s\n", e.msg);
        return 1;
    }
    printf("%d\n", port);
    fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    sl_http_stop(h);
    sl_sched_close(s);
    return 0;
}
