/* slurm.h - starting sluice agents through Slurm (the pilot pattern).
 *
 * We never manage a cluster ourselves: `sluice slurm up` renders one batch
 * script whose `srun --ntasks-per-node=1` runs one `sluice agent` on every
 * allocated node, and submits it with sbatch. This module renders that script
 * (slurm_script.c), runs the Slurm client commands and parses what they print
 * (slurm_cmd.c). It knows nothing about the controller; the CLI ties both. */
#ifndef SL_SLURM_H
#define SL_SLURM_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define SL_SLURM_JOB_NAME "sluice-agents"

typedef struct sl_slurm_opts {
    int nodes;      /* nodes for agents (the compute part of a het job) */
    int het_ingest; /* >0: heterogeneous job, this many ingest nodes first */
    const char *partition, *time, *qos, *reservation, *account, *constraint;
    int exclusive;             /* --exclusive: whole nodes (else agents are named
                                  NODE-jJOBID: another job may share the node) */
    const char *const *sbatch; /* extra sbatch options, one "--opt=value" each */
    size_t nsbatch;
    const char *job_name;         /* default SL_SLURM_JOB_NAME */
    const char *output;           /* sbatch --output; default sluice-agents-%j.out */
    const char *controller;       /* address the agents dial (or listen on, see below) */
    int controller_inside;        /* start the controller on the batch node */
    const char *controller_state; /* its state dir (default: SSD root) */
    const char *join_token_file;  /* agents' join credential, a path the nodes read
                                     (NULL with controller_inside: its state dir's) */
    const char *sluice;           /* path of the sluice binary on the nodes */
    const char *mem_root;         /* node memory tier parent, default /dev/shm */
    const char *ssd_root;         /* node local disk parent, default /tmp */
    const char *const *groups;    /* extra groups for every agent */
    size_t ngroups;
    int group_by_node; /* also a group named after each node */
    int drain_s;       /* SIGTERM agents this long before the time limit; 0 = never */
} sl_slurm_opts;

/* Checks option values (counts, characters allowed in #SBATCH lines, Slurm
 * time syntax). */
int sl_slurm_check_opts(const sl_slurm_opts *o, sl_err *err);
/* Slurm time syntax: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or
 * "infinite"/"unlimited". Returns seconds (-1 if unlimited) or SL_EINVAL. */
int64_t sl_slurm_parse_time(const char *s);
/* The batch script (#SBATCH lines + the srun that starts the agents). */
int sl_slurm_render_script(const sl_slurm_opts *o, sl_buf *out, sl_err *err);
/* The comment sluice puts on its jobs: "sluice:<controller>" (status and
 * down only touch jobs of their own controller). */
char *sl_slurm_comment(const sl_slurm_opts *o);

/* One row of squeue. A het job shows as one row per component ("12+0"). */
typedef struct sl_slurm_job {
    char *id;       /* as squeue prints it: "12" or "12+1" */
    int64_t job_id; /* the number before any '+' (what scancel takes) */
    char *name, *state, *elapsed, *limit, *partition, *comment, *nodelist;
    int nodes;
} sl_slurm_job;

/* The squeue -o format sl_slurm_parse_squeue reads. */
#define SL_SLURM_SQUEUE_FORMAT "%i|%j|%T|%D|%M|%l|%P|%k|%N"
/* Parses squeue -h -o SL_SLURM_SQUEUE_FORMAT output; keeps rows whose name
 * starts with name_prefix (NULL: all) and whose comment equals comment
 * (NULL: any). Returns the count or SL_EINVAL. */
int sl_slurm_parse_squeue(const char *text, const char *name_prefix, const char *comment,
                          sl_slurm_job **jobs, sl_err *err);
void sl_slurm_jobs_free(sl_slurm_job *jobs, int n);
/* sbatch --parsable output "ID" or "ID;CLUSTER" to the job id. */
int sl_slurm_parse_sbatch(const char *text, int64_t *job_id, sl_err *err);

/* Runs argv (PATH lookup) with `input` on stdin (NULL: /dev/null), collects
 * stdout into out; stderr goes to ours. Returns the exit status (0..255), or
 * a negative code when the program could not run. */
int sl_slurm_exec(char *const argv[], const char *input, sl_buf *out, sl_err *err);

#endif
