/* pipeline.h - the typed model of a pipeline YAML file.
 *
 * sl_pipeline_load()/sl_pipeline_parse() turn YAML (libyaml) into this model
 * and validate all of it before anything runs: unknown keys, missing or cyclic
 * stages, bad durations/sizes, bad placement values, bad retry rules, bad key
 * templates. Errors read "file:line:col: what is wrong". ${NAME} and
 * ${NAME:-default} in scalar values are substituted from a variable source
 * (the environment plus an env file, or an explicit list when the controller
 * re-parses a submitted pipeline) and the values used are recorded in `vars`
 * so the exact same model can be rebuilt elsewhere.
 *
 * Everything hangs off one allocation arena: sl_pipeline_free() releases all. */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include <stdint.h>
#include <stddef.h>

#include "util/err.h"

typedef struct sl_loc {
    int line, col; /* 1-based position in the YAML file, 0 if synthetic */
} sl_loc;

typedef enum sl_placement {
    SL_PLACE_ANY = 0,
    SL_PLACE_HOST_BOUND,
    SL_PLACE_GROUP_BOUND,
} sl_placement;

typedef struct sl_kv {
    char *key;
    char *value;
} sl_kv;

typedef struct sl_retry_rule {
    int exit_code; /* 0..255 */
    int retries;   /* extra attempts allowed after a failure with this code */
} sl_retry_rule;

typedef struct sl_emit {
    char *to;     /* downstream stage name */
    int to_index; /* index into sl_pipeline.stages, resolved by validation */
    char *key;    /* key template, default "{key}" (see template.h) */
    int stream;   /* `stream: true`: push outputs to the consumer's host */
    sl_loc loc;   /* position of the `to` value */
} sl_emit;

typedef struct sl_stage {
    char *name;     /* [a-z0-9][a-z0-9_-]*, unique */
    char **command; /* argv prefix; the task key and headers JSON follow */
    size_t ncommand;
    char *runtime; /* "process" (default), "noop", podman, docker, charliecloud, ... */
    char *image;   /* container image; ignored by process, noop and bwrap */
    sl_kv *env;    /* the stage's own environment */
    size_t nenv;
    int slots; /* concurrent tasks of this stage per host, default 1 */
    sl_placement placement;
    char *group;        /* group-bound: a group name from `groups:` or an agent label
                           (written "label:NAME" in YAML; stored without the prefix) */
    int group_index;    /* index into sl_pipeline.groups, or -1 when group is an agent
                           label (a cluster.agents group or "label:NAME"); set by validation */
    int64_t timeout_ms; /* 0 = no timeout */
    int retry_default;  /* retries for exit codes without their own rule */
    sl_retry_rule *retry;
    size_t nretry;
    int64_t output_size; /* bytes a task writes (admission), 0 = unknown */
    char *on_full;       /* "wait" (default) or "drop-oldest" */
    int verify_local;    /* `verify: local`: inputs on this host are checked against their
                            manifests too, not only copies from other hosts (`copies`) */
    int keep;            /* keep outputs after their consumers finished; default:
                            1 for stages without emits (final products), else 0 */
    int64_t cpus_milli;  /* containers: cpus * 1000, 0 = unlimited */
    int64_t memory;      /* containers: bytes, 0 = unlimited */
    char **gpus;         /* containers: device paths or CDI names (`gpus:`) */
    size_t ngpus;
    sl_emit *emits;
    size_t nemits;
    int gather; /* >0: a join; a task is made when this many members arrived */
    sl_loc loc;
    sl_loc command_loc; /* position of the program (command[0]), for warnings */
} sl_stage;

typedef struct sl_group {
    char *name;
    char **hosts;
    size_t nhosts;
    sl_loc loc;
} sl_group;

/* An initial message: `messages:` entries; key may hold brace ranges. */
typedef struct sl_message {
    char *to;
    int to_index;
    char *key;     /* template without {key}; ranges like {109..132} expand */
    char *headers; /* JSON object text, NULL for none */
    int64_t batch; /* `batch: N`: N keys at a time, each batch after the last is done; 0 = none */
    sl_loc loc;
} sl_message;

/* Agents that `sluice run` starts locally (the embedded default). */
typedef struct sl_local_agent {
    char *name;
    char **groups;
    size_t ngroups;
} sl_local_agent;

/* cluster.slurm: defaults for `sluice slurm up --from FILE` (docs/slurm.md).
 * Strings are NULL and counts 0 when not given. */
typedef struct sl_cluster_slurm {
    int present;
    int nodes;      /* agents (compute nodes of a het job) */
    int het_ingest; /* `het: "I:C"`: I ingest nodes, then nodes = C */
    char *partition, *time, *qos, *reservation, *account, *constraint;
    char *mem_root, *ssd_root;
    int exclusive; /* -1 = not given */
    int group_by_node;
    char **groups;
    size_t ngroups;
    char **sbatch; /* extra sbatch options */
    size_t nsbatch;
    int64_t drain_ms; /* -1 = not given */
} sl_cluster_slurm;

typedef struct sl_pipeline {
    char *file; /* path shown in errors */
    char *name;
    char *description;
    sl_stage *stages;
    size_t nstages;
    sl_group *groups;
    size_t ngroups;
    sl_message *messages;
    size_t nmessages;
    sl_local_agent *agents; /* cluster.agents: list or a count (names local-1..N) */
    size_t nagents;
    sl_cluster_slurm slurm; /* cluster.slurm */
    int64_t lease_ttl_ms;   /* 0 (default): the controller's --lease-ttl */
    sl_kv *vars;            /* variables that were substituted, with their values */
    size_t nvars;
    void *arena; /* owns every pointer above */
} sl_pipeline;

/* Where ${NAME} values come from when parsing. */
typedef struct sl_varsrc {
    int use_environ;      /* look names up with getenv() */
    const char *env_file; /* KEY=VALUE file, NULL for none; overrides `env_file:` in YAML */
    const sl_kv *vars;    /* explicit values, looked up first */
    size_t nvars;
    int no_env_file; /* ignore `env_file:` in the YAML (re-parsing from p->vars) */
} sl_varsrc;

/* Reads and validates FILE. On error returns NULL and fills err with
 * "file:line:col: message". */
sl_pipeline *sl_pipeline_load(const char *file, const sl_varsrc *src, sl_err *err);
/* Same from text in memory; `file` is the name used in messages. */
sl_pipeline *sl_pipeline_parse(const char *file, const char *text, size_t len, const sl_varsrc *src,
                               sl_err *err);
void sl_pipeline_free(sl_pipeline *p);
/* Rebuilds a submitted pipeline from its text and the JSON object of the
 * variables recorded with it (pipeline_vars_json.c). */
sl_pipeline *sl_pipeline_parse_with_vars_json(const char *file, const char *yaml,
                                              const char *vars_json, sl_err *err);

int sl_pipeline_stage_index(const sl_pipeline *p, const char *name); /* -1 if none */
/* Retries allowed after a failure with this exit code (rule or default). */
int sl_stage_retries_for(const sl_stage *s, int exit_code);
const char *sl_placement_name(sl_placement p);
/* Whether a stage's outputs outlive their consumers (`keep:`, default: a
 * stage without emits makes final products and keeps them). */
static inline int sl_stage_keeps(const sl_stage *s)
{
    return s->keep >= 0 ? s->keep : s->nemits == 0;
}

#endif
