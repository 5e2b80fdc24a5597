/* api.h - the controller's table of gRPC methods (see api.c). The context
 * passed to every handler is the sl_sched. */
#ifndef SL_API_H
#define SL_API_H

#include <stddef.h>

#include "rpc/rpc.h"
#include "sched/sched.h"

extern const sl_rpc_method sl_api_methods[];
extern const size_t sl_api_nmethods;

#endif
