/* docker.c - the docker runtime: podman's engine (podman.c) with the docker
 * program. The command lines are the same (run -d / exec / rm -f, --volume,
 * --network=host, --cpus, --memory, --device), and so is the slot lifecycle.
 * Tested like podman by tests/integration/test_runtime_docker.sh against a
 * dockerd the test starts (Debian docker.io). */
#include "runtime/container.h"
#include "util/buf.h"
#include "runtime/podman.h"

/* Owned by the agent's executor thread, the only caller of runtimes. */
static sl_cengine docker = SL_CENGINE_INIT("docker");

static int docker_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    return sl_cengine_start(&docker, s, pid, exit_code, err);
}

static void docker_finish(pid_t pid, int status, int killed, char *note, size_t n)
{
    sl_cengine_finish(&docker, pid, status, killed, note, n);
}

static void docker_shutdown(void)
{
    sl_cengine_shutdown(&docker);
}

const sl_runtime sl_runtime_docker = {"docker", docker_start, docker_finish, docker_shutdown};
