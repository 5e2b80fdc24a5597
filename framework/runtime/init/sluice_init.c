/* sluice-init - the idle PID 1 of a reusable slot container.
 *
 * A podman/docker slot container is started once with this program as its
 * only process and then serves many tasks through `podman exec`. As PID 1 it
 * must reap orphans and leave on SIGTERM; it also watches a FIFO in the
 * agent's work root whose only writer is the agent: when the agent dies,
 * even by SIGKILL, the read end sees EOF and the container stops (and is
 * removed by --rm), so no container outlives its agent. Statically linked and
 * bind-mounted read-only, so it works in any image, even FROM scratch.
 *
 * Usage: sluice-init idle [FIFO] */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "idle") != 0) {
        fprintf(stderr, "usage: sluice-init idle [FIFO]\n"
                        "The idle process of a sluice slot container (see docs/containers.md).\n");
        return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    int ffd = argc >= 3 ? open(argv[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    if (argc >= 3 && ffd < 0)
        fprintf(stderr, "sluice-init: cannot open %s: %s (not watching the agent)\n", argv[2],
                strerror(errno));
    for (;;) {
        struct pollfd pf[2] = {{sfd, POLLIN, 0}, {ffd, POLLIN, 0}};
        if (poll(pf, ffd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) return 1;
        if (pf[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si)
                if (si.ssi_signo != SIGCHLD) return 0;
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        }
        if (ffd >= 0 && (pf[1].revents & (POLLIN | POLLHUP))) {
            char b[64];
            ssize_t n = read(ffd, b, sizeof b);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return 0; /* the agent is gone */
        }
    }
}
