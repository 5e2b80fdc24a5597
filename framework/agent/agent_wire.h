/* agent_wire.h - finished tasks on the wire: an agent's completions as
 * protobuf (sluice.proto's Completion) and back. The reporter and lease
 * threads send them; the journal (agent_journal.c) keeps the same bytes on
 * disk so a restarted agent can send them again. */
#ifndef SL_AGENT_WIRE_H
#define SL_AGENT_WIRE_H

#include "agent/agent_int.h"
#include "sluice.pb-c.h"

/* Protobuf view of a list of finished tasks (strings borrowed from them). */
typedef struct sl_pb_completions {
    Sluice__V1__Completion *cs, **cp;
    Sluice__V1__Message *ms, **mp;
    void **allocs; /* object descriptions, freed with the view */
    size_t nallocs;
} sl_pb_completions;

/* Zeroed memory freed with the view. */
void *sl_pb_alloc(sl_pb_completions *pk, size_t n);
/* An ObjectRef for an object of ours: files from its manifest, one replica
 * naming the host it is on. */
Sluice__V1__ObjectRef *sl_pb_object(sl_pb_completions *pk, const sl_aobj *o, const char *host);
/* The view of the first n tasks of the list `batch` (linked by next). */
void sl_pb_completions_pack(sl_pb_completions *pk, sl_atask *batch, size_t n, const char *host);
void sl_pb_completions_free(sl_pb_completions *pk);
/* A finished task rebuilt from its completion (as journaled). */
sl_atask *sl_atask_from_pb(const Sluice__V1__Completion *c);

#endif
