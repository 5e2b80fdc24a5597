/* limits.h - how much a pipeline file, a task key, a task's headers and one
 * message may make the controller hold. One place for every such bound, so
 * the parser, the scheduler and docs/pipeline-yaml.md ("Limits") agree; a
 * value over a limit is refused with the limit in the message, at validate
 * time where the YAML says it, else at submit or emit. */
#ifndef SL_PIPELINE_LIMITS_H
#define SL_PIPELINE_LIMITS_H

/* A pipeline YAML document (the file, or the text a client submits). */
#define SL_PIPE_MAX_DOC_BYTES (1024 * 1024)
/* One scalar, as written and after ${VAR} substitution. */
#define SL_PIPE_MAX_SCALAR_BYTES (64 * 1024)
/* Nested mappings and lists. */
#define SL_PIPE_MAX_DEPTH 64
/* Entries of `stages:`. */
#define SL_PIPE_MAX_STAGES 1000
/* Variables given with a submission, or defined in an env_file. */
#define SL_PIPE_MAX_VARS 1000

/* A task key (template.h says what a key may hold). */
#define SL_KEY_MAX 512
/* Keys one message, or one emits: template applied to one key, may expand
 * to ({1..100000000} is refused before any key is made). */
#define SL_TEMPLATE_MAX_KEYS 1000000

/* A task's headers: a JSON object, from `messages:`, `sluice emit` or a
 * module's emit file. */
#define SL_HEADERS_MAX_BYTES (64 * 1024)
#define SL_HEADERS_MAX_DEPTH 16

#endif
