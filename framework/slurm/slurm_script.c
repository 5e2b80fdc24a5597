/* slurm_script.c - the batch script of `sluice slurm up`.
 *
 * All sbatch options are #SBATCH lines, so a printed script (`up --script`)
 * can be kept, edited and submitted by hand. The script exports its settings
 * as SLUICE_SLURM_* variables (srun passes the environment on) and one srun
 * step per job component runs a small sh wrapper on every node: it names the
 * agent after the Slurm node, puts the cache tiers under the node's /dev/shm
 * and local disk, forwards SIGTERM (sent by --signal before the time limit,
 * or by scancel) to the agent, and removes the node's cache when it ends. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm/slurm.h"

int64_t sl_slurm_parse_time(const char *s)
{
    if (!s || !*s) return SL_EINVAL;
    if (!strcmp(s, "infinite") || !strcmp(s, "unlimited") || !strcmp(s, "UNLIMITED")) return -1;
    long long days = 0, f[3];
    int nf = 0;
    const char *p = s, *dash = strchr(s, '-');
    if (dash) {
        char *e;
        if (!isdigit((unsigned char)*s)) return SL_EINVAL;
        days = strtoll(s, &e, 10);
        if (e != dash) return SL_EINVAL;
        p = dash + 1;
    }
    while (*p) {
        if (nf == 3 || !isdigit((unsigned char)*p)) return SL_EINVAL;
        char *e;
        f[nf++] = strtoll(p, &e, 10);
        if (e - p > 6) return SL_EINVAL;
        p = e;
        if (*p == ':' && p[1])
            p++;
        else if (*p)
            return SL_EINVAL;
    }
    if (nf == 0) return SL_EINVAL;
    if (dash) /* D-HH, D-HH:MM, D-HH:MM:SS */
        return days * 86400 + f[0] * 3600 + (nf > 1 ? f[1] * 60 : 0) + (nf > 2 ? f[2] : 0);
    if (nf == 1) /* minutes */
        return f[0] * 60;
    if (nf == 2) /* MM:SS */
        return f[0] * 60 + f[1];
    return f[0] * 3600 + f[1] * 60 + f[2];
}

/* Values that go into #SBATCH lines or sh single quotes: printable, no
 * blanks, no quotes or backslashes (sbatch's own parsing of #SBATCH lines
 * is not a shell). */
static int check_word(const char *what, const char *v, int allow_space, sl_err *err)
{
    if (!v) return 0;
    if (!*v) return sl_errf(err, SL_EINVAL, "%s must not be empty", what);
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '\\' || c == '`' ||
            (!allow_space && c == ' '))
            return sl_errf(err, SL_EINVAL, "%s '%s' holds a character Slurm options cannot carry",
                           what, v);
    }
    return 0;
}

int sl_slurm_check_opts(const sl_slurm_opts *o, sl_err *err)
{
    if (o->nodes < 1 || o->nodes > 100000)
        return sl_errf(err, SL_EINVAL, "--nodes must be 1..100000 (got %d)", o->nodes);
    if (o->het_ingest < 0 || o->het_ingest > 100000)
        return sl_errf(err, SL_EINVAL, "the ingest part of --het must be 1..100000");
    if (o->time && sl_slurm_parse_time(o->time) == SL_EINVAL)
        return sl_errf(err, SL_EINVAL,
                       "time limit '%s' is not Slurm time syntax (MM, HH:MM:SS, D-HH:MM, ...)",
                       o->time);
    if (o->drain_s < 0) return sl_errf(err, SL_EINVAL, "--drain must be >= 0 seconds");
    if (o->time && o->drain_s > 0) {
        int64_t lim = sl_slurm_parse_time(o->time);
        if (lim > 0 && o->drain_s >= lim)
            return sl_errf(err, SL_EINVAL,
                           "--drain %d s is not shorter than the time limit %s; give a shorter "
                           "drain (or --drain 0)",
                           o->drain_s, o->time);
    }
    struct {
        const char *what, *v;
    } words[] = {{"partition", o->partition},
                 {"qos", o->qos},
                 {"reservation", o->reservation},
                 {"account", o->account},
                 {"constraint", o->constraint},
                 {"job name", o->job_name},
                 {"output", o->output},
                 {"controller address", o->controller},
                 {"sluice path", o->sluice},
                 {"mem root", o->mem_root},
                 {"ssd root", o->ssd_root},
                 {"controller state dir", o->controller_state},
                 {"join credential file", o->join_token_file}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (check_word(words[i].what, words[i].v, 0, err) < 0) return SL_EINVAL;
    if (!o->controller || !o->sluice)
        return sl_errf(err, SL_EINVAL, "the controller address and the sluice path are required");
    for (size_t i = 0; i < o->ngroups; i++) {
        const char *g = o->groups[i];
        if (!isalnum((unsigned char)g[0]) ||
            strspn(g, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(g))
            return sl_errf(err, SL_EINVAL, "group name '%s' must match [A-Za-z0-9][A-Za-z0-9_.-]*",
                           g);
    }
    for (size_t i = 0; i < o->nsbatch; i++) {
        if (strncmp(o->sbatch[i], "-", 1))
            return sl_errf(err, SL_EINVAL, "sbatch option '%s' must start with '-'", o->sbatch[i]);
        if (check_word("sbatch option", o->sbatch[i], 0, err) < 0) return SL_EINVAL;
    }
    return 0;
}

char *sl_slurm_comment(const sl_slurm_opts *o)
{
    return sl_xasprintf("sluice:%s%s", o->controller_inside ? "inside:" : "", o->controller);
}

/* The per-node wrapper srun runs (single-quoted in the script: no ' inside). */
static const char NODE_WRAPPER[] =
    "node=${SLURMD_NODENAME:-$(hostname -s)}\n"
    "  [ \"$SLUICE_SLURM_SHARED\" = 1 ] && node=\"$node-j$SLUICE_SLURM_JOB\"\n"
    /* roots may name node-side variables, e.g. $TMPDIR: expand them here */
    "  eval \"memr=\\\"$SLUICE_SLURM_MEM\\\" ssdr=\\\"$SLUICE_SLURM_SSD\\\"\"\n"
    "  mem=\"$memr/sluice-$SLUICE_SLURM_JOB/$node\"\n"
    "  dir=\"$ssdr/sluice-$SLUICE_SLURM_JOB/$node\"\n"
    "  set -- --controller \"$SLUICE_SLURM_CONTROLLER\" --name \"$node\" --dir \"$dir\" \\\n"
    "         --ssd \"$dir/ssd\" --mem \"$mem\" --group \"slurm-$SLUICE_SLURM_JOB\"\n"
    "  for g in $SLUICE_SLURM_GROUPS $SLUICE_SLURM_COMPONENT; do set -- \"$@\" --group \"$g\"; "
    "done\n"
    "  [ \"$SLUICE_SLURM_GROUP_BY_NODE\" = 1 ] && set -- \"$@\" --group \"$node\"\n"
    "  [ \"$SLUICE_SLURM_DRAIN\" -gt 0 ] && set -- \"$@\" --drain-on-term \"$SLUICE_SLURM_DRAIN\"\n"
    "  \"$SLUICE_SLURM_BIN\" agent \"$@\" &\n"
    "  pid=$!\n"
    "  echo \"sluice-slurm: agent $node pid $pid -> $SLUICE_SLURM_CONTROLLER\" >&2\n"
    "  trap \"kill -TERM $pid 2>/dev/null\" TERM\n"
    "  trap \"kill -INT $pid 2>/dev/null\" INT\n"
    "  rc=0\n"
    "  while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done\n"
    "  rm -rf \"$mem\" \"$mem.work\" \"$mem.journal\" \"$mem.cred\" \"$dir\"\n"
    "  rmdir \"$memr/sluice-$SLUICE_SLURM_JOB\" \"$ssdr/sluice-$SLUICE_SLURM_JOB\" 2>/dev/null\n"
    "  exit $rc";

static void sbatch_line(sl_buf *b, const char *opt, const char *v)
{
    if (v) sl_buf_printf(b, "#SBATCH --%s=%s\n", opt, v);
}

/* #SBATCH lines of one job component (het: one per part). */
static void component(sl_buf *b, const sl_slurm_opts *o, int nodes)
{
    sl_buf_printf(b, "#SBATCH --nodes=%d\n", nodes);
    sbatch_line(b, "partition", o->partition);
    sbatch_line(b, "constraint", o->constraint);
    if (o->exclusive) sl_buf_puts(b, "#SBATCH --exclusive\n");
}

int sl_slurm_render_script(const sl_slurm_opts *o, sl_buf *b, sl_err *err)
{
    if (sl_slurm_check_opts(o, err) < 0) return SL_EINVAL;
    const char *name = o->job_name ? o->job_name : SL_SLURM_JOB_NAME;
    char *comment = sl_slurm_comment(o);
    sl_buf_puts(b, "#!/bin/sh\n");
    sl_buf_printf(b, "#SBATCH --job-name=%s\n", name);
    sl_buf_printf(b, "#SBATCH --comment=%s\n", comment);
    sl_buf_printf(b, "#SBATCH --output=%s\n", o->output ? o->output : "sluice-agents-%j.out");
    sl_buf_puts(b, "#SBATCH --no-kill\n"); /* a lost node must not end the others' agents */
    sbatch_line(b, "time", o->time);
    sbatch_line(b, "qos", o->qos);
    sbatch_line(b, "reservation", o->reservation);
    sbatch_line(b, "account", o->account);
    if (o->drain_s > 0) sl_buf_printf(b, "#SBATCH --signal=TERM@%d\n", o->drain_s);
    for (size_t i = 0; i < o->nsbatch; i++)
        sl_buf_printf(b, "#SBATCH %s\n", o->sbatch[i]);
    if (o->het_ingest > 0) {
        component(b, o, o->het_ingest);
        sl_buf_puts(b, "#SBATCH hetjob\n");
    }
    component(b, o, o->nodes);
    free(comment);

    sl_buf_puts(b, "#\n# Generated by `sluice slurm up`: one sluice agent per allocated node\n"
                   "# (the pilot pattern). Docs: docs/slurm.md.\n\n");
    sl_buf_printf(b, "export SLUICE_SLURM_BIN='%s'\n", o->sluice);
    sl_buf_printf(b, "export SLUICE_SLURM_MEM='%s'\n", o->mem_root ? o->mem_root : "/dev/shm");
    sl_buf_printf(b, "export SLUICE_SLURM_SSD='%s'\n", o->ssd_root ? o->ssd_root : "/tmp");
    sl_buf_puts(b, "export SLUICE_SLURM_GROUPS='");
    for (size_t i = 0; i < o->ngroups; i++)
        sl_buf_printf(b, "%s%s", i ? " " : "", o->groups[i]);
    sl_buf_puts(b, "'\n");
    sl_buf_printf(b, "export SLUICE_SLURM_GROUP_BY_NODE=%d\n", o->group_by_node ? 1 : 0);
    /* nodes shared with other jobs may hold another sluice agent: unique names */
    sl_buf_printf(b, "export SLUICE_SLURM_SHARED=%d\n", o->exclusive ? 0 : 1);
    /* the agent finishes running tasks for most of the lead time, then leaves */
    int grace = o->drain_s > 0 ? (o->drain_s > 20 ? o->drain_s - 10 : (o->drain_s + 1) / 2) : 0;
    sl_buf_printf(b, "export SLUICE_SLURM_DRAIN=%d\n", grace);
    sl_buf_puts(b, "export SLUICE_SLURM_JOB=$SLURM_JOB_ID\n");
    if (o->controller_inside) {
        /* listen on the given address; agents dial the batch node unless the
         * address names a specific host */
        const char *colon = strrchr(o->controller, ':');
        const char *port = colon ? colon + 1 : "7470";
        int any = !colon || !strncmp(o->controller, "0.0.0.0:", 8) || colon == o->controller;
        const char *state = o->controller_state ? o->controller_state : NULL;
        sl_buf_printf(b, "ctl_state='%s'\n", state ? state : "");
        sl_buf_printf(b, "[ -n \"$ctl_state\" ] || eval ctl_state=\"$SLUICE_SLURM_SSD/"
                         "sluice-$SLURM_JOB_ID/controller\"\n");
        sl_buf_puts(b, "mkdir -p \"$ctl_state\"\n");
        sl_buf_printf(b,
                      "\"$SLUICE_SLURM_BIN\" controller --state \"$ctl_state\" --listen '%s' "
                      "--addr-file \"$ctl_state/addr\" &\n",
                      colon ? o->controller : "0.0.0.0:7470");
        sl_buf_puts(b, "ctl_pid=$!\n");
        if (!o->join_token_file) {
            /* the controller makes its secrets before it listens */
            sl_buf_puts(b, "export SLUICE_JOIN_TOKEN_FILE=\"$ctl_state/secrets/join.token\"\n"
                           "n=0; while [ ! -s \"$ctl_state/addr\" ] && [ $n -lt 300 ]; do "
                           "sleep 0.1; n=$((n+1)); done\n");
        }
        if (any)
            sl_buf_printf(b, "export SLUICE_SLURM_CONTROLLER=\"$(hostname):%s\"\n", port);
        else
            sl_buf_printf(b, "export SLUICE_SLURM_CONTROLLER='%s'\n", o->controller);
        sl_buf_puts(b, "echo \"sluice-slurm: controller $SLUICE_SLURM_CONTROLLER "
                       "(state $ctl_state) in job $SLURM_JOB_ID\" >&2\n");
    } else {
        sl_buf_printf(b, "export SLUICE_SLURM_CONTROLLER='%s'\n", o->controller);
    }
    if (o->join_token_file)
        sl_buf_printf(b, "export SLUICE_JOIN_TOKEN_FILE='%s'\n", o->join_token_file);
    sl_buf_printf(b,
                  "\nagents() { # srun options of one step\n"
                  "  srun \"$@\" --ntasks-per-node=1 --no-kill --kill-on-bad-exit=0 "
                  "/bin/sh -c '%s'\n}\n\n",
                  NODE_WRAPPER);
    /* the batch shell outlives the agents: it waits for every step */
    sl_buf_puts(b, "trap 'echo sluice-slurm: batch shell got SIGTERM >&2' TERM\n");
    if (o->het_ingest > 0) {
        sl_buf_puts(b, "(export SLUICE_SLURM_COMPONENT=ingest; agents --het-group=0) &\n"
                       "p0=$!\n"
                       "(export SLUICE_SLURM_COMPONENT=compute; agents --het-group=1) &\n"
                       "p1=$!\n"
                       "for p in $p0 $p1; do\n"
                       "  while kill -0 $p 2>/dev/null; do wait $p; done\n"
                       "done\n");
    } else {
        sl_buf_puts(b, "(export SLUICE_SLURM_COMPONENT=; agents) &\n"
                       "p0=$!\n"
                       "while kill -0 $p0 2>/dev/null; do wait $p0; done\n");
    }
    if (o->controller_inside) sl_buf_puts(b, "kill -TERM $ctl_pid 2>/dev/null; wait $ctl_pid\n");
    sl_buf_puts(b, "echo \"sluice-slurm: agents of job $SLURM_JOB_ID ended\" >&2\n");
    return 0;
}
