/* fuzz_rpc_requests.c - libFuzzer harness: decoding what arrives over gRPC.
 *
 * The first byte picks a message of framework/proto/sluice.proto (every
 * request the controller serves, the Completion an agent journals, and the
 * replies an agent reads); the rest is unpacked with the generated
 * protobuf-c code and freed. Where the receiver converts a message further
 * without needing a live scheduler, that runs too: Submit's pipeline parse
 * and the rebuild from its recorded variables (sched.c), Emit's key and
 * headers checks (sched_complete.c), manifests of ObjectRefs and Pushes
 * (manifest_pb.c, as api.c and agent.c read them) and sl_atask_from_pb
 * (agent_wire.c) for every Completion. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_wire.h"
#include "cache/manifest_pb.h"
#include "pipeline/pipeline.h"
#include "pipeline/template.h"
#include "sluice.pb-c.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const msgs[] = {
    &sluice__v1__submit_request__descriptor, /* 0 */
    &sluice__v1__get_pipeline_request__descriptor, &sluice__v1__status_request__descriptor,
    &sluice__v1__matrix_request__descriptor,       &sluice__v1__list_tasks_request__descriptor,
    &sluice__v1__task_logs_request__descriptor, /* 5 */
    &sluice__v1__retry_request__descriptor,        &sluice__v1__cancel_request__descriptor,
    &sluice__v1__emit_request__descriptor,         &sluice__v1__hosts_request__descriptor,
    &sluice__v1__register_request__descriptor, /* 10 */
    &sluice__v1__lease_request__descriptor,        &sluice__v1__complete_request__descriptor,
    &sluice__v1__heartbeat_request__descriptor,    &sluice__v1__completion__descriptor,
    &sluice__v1__lease_reply__descriptor, /* 15 */
    &sluice__v1__register_reply__descriptor,       &sluice__v1__heartbeat_reply__descriptor,
    &sluice__v1__complete_reply__descriptor,
};
#define NMSGS (sizeof msgs / sizeof msgs[0])

/* The manifest text of an ObjectFile list, as api.c and agent.c make it. */
static void files_text(Sluice__V1__ObjectFile *const *files, size_t n)
{
    char *t = sl_manifest_from_pb(files, n);
    if (!t) abort();
    free(t);
}

static void objrefs(Sluice__V1__ObjectRef *const *refs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        files_text(refs[i]->files, refs[i]->n_files);
}

static void free_aobj(sl_aobj *o)
{
    free(o->path);
    free(o->files);
    free(o->tier);
    free(o->host);
}

static void free_aobjs(sl_aobj *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_aobj(&v[i]);
    free(v);
}

/* What the agent rebuilds from a journaled completion. */
static void completion(const Sluice__V1__Completion *c)
{
    objrefs(c->outputs, c->n_outputs);
    objrefs(c->copies, c->n_copies);
    objrefs(c->unreachable, c->n_unreachable);
    objrefs(c->corrupt, c->n_corrupt);
    sl_atask *t = sl_atask_from_pb(c);
    for (size_t i = 0; i < t->nemitted; i++) {
        free(t->emitted[i].stage);
        free(t->emitted[i].key);
        free(t->emitted[i].headers);
    }
    free(t->emitted);
    free(t->out_tail);
    free(t->err_tail);
    free(t->error);
    free_aobj(&t->output);
    free_aobjs(t->copies, t->ncopies);
    free_aobjs(t->unreach, t->nunreach);
    free_aobjs(t->corrupt, t->ncorrupt);
    free(t);
}

static void submit(const Sluice__V1__SubmitRequest *r)
{
    if (strlen(r->yaml) > 16384) return; /* fuzz_pipeline_yaml covers big files */
    sl_kv *kv = calloc(r->n_vars ? r->n_vars : 1, sizeof *kv);
    sl_buf vj = SL_BUF_INIT;
    sl_buf_putc(&vj, '{');
    for (size_t i = 0; i < r->n_vars; i++) {
        kv[i].key = r->vars[i]->name;
        kv[i].value = r->vars[i]->value;
        if (i) sl_buf_putc(&vj, ',');
        sl_buf_json_str(&vj, r->vars[i]->name);
        sl_buf_putc(&vj, ':');
        sl_buf_json_str(&vj, r->vars[i]->value);
    }
    sl_buf_putc(&vj, '}');
    sl_varsrc src = {.vars = kv, .nvars = r->n_vars, .no_env_file = 1};
    sl_err e;
    sl_err_clear(&e);
    sl_pipeline *p = sl_pipeline_parse(r->file, r->yaml, strlen(r->yaml), &src, &e);
    if (p) {
        /* the controller rebuilds the model from the recorded variables */
        sl_pipeline *q = sl_pipeline_parse_with_vars_json(r->file, r->yaml, vj.data, &e);
        if (!q || q->nstages != p->nstages || q->nmessages != p->nmessages) abort();
        sl_pipeline_free(q);
    }
    sl_pipeline_free(p);
    sl_buf_free(&vj);
    free(kv);
}

static void emit(const Sluice__V1__EmitRequest *r)
{
    for (size_t i = 0; i < r->n_messages; i++) {
        sl_err e;
        sl_err_clear(&e);
        sl_key_validate(r->messages[i]->key, &e);
        if (r->messages[i]->headers[0]) sl_json_check_object(r->messages[i]->headers, &e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t which = data[0] % NMSGS;
    ProtobufCMessage *m = protobuf_c_message_unpack(msgs[which], NULL, size - 1, data + 1);
    if (!m) return 0;
    switch (which) {
    case 0:
        submit((Sluice__V1__SubmitRequest *)m);
        break;
    case 8:
        emit((Sluice__V1__EmitRequest *)m);
        break;
    case 11: {
        Sluice__V1__LeaseRequest *r = (Sluice__V1__LeaseRequest *)m;
        for (size_t i = 0; i < r->n_done; i++)
            completion(r->done[i]);
        break;
    }
    case 12: {
        Sluice__V1__CompleteRequest *r = (Sluice__V1__CompleteRequest *)m;
        for (size_t i = 0; i < r->n_done; i++)
            completion(r->done[i]);
        break;
    }
    case 13: {
        Sluice__V1__HeartbeatRequest *r = (Sluice__V1__HeartbeatRequest *)m;
        objrefs(r->pushed, r->n_pushed);
        break;
    }
    case 14:
        completion((Sluice__V1__Completion *)m);
        break;
    case 15: {
        Sluice__V1__LeaseReply *r = (Sluice__V1__LeaseReply *)m;
        for (size_t i = 0; i < r->n_tasks; i++)
            objrefs(r->tasks[i]->inputs, r->tasks[i]->n_inputs);
        for (size_t i = 0; i < r->n_push; i++)
            files_text(r->push[i]->files, r->push[i]->n_files);
        break;
    }
    case 18: {
        Sluice__V1__CompleteReply *r = (Sluice__V1__CompleteReply *)m;
        for (size_t i = 0; i < r->n_push; i++)
            files_text(r->push[i]->files, r->push[i]->n_files);
        break;
    }
    default:
        break;
    }
    /* a decoded message packs again to the size it announces. (Unpacking
     * that need not succeed: protobuf-c keeps a string with a NUL inside,
     * packs it cut at the NUL, and the cut may split a UTF-8 sequence.) */
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (protobuf_c_message_pack(m, buf) != n) abort();
    ProtobufCMessage *m2 = protobuf_c_message_unpack(msgs[which], NULL, n, buf);
    if (m2) protobuf_c_message_free_unpacked(m2, NULL);
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
