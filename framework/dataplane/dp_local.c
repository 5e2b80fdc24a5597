/* dp_local.c - the data plane's same-host operations.
 *
 * Two stages on one host never copy an object: the hand-off is a hard link
 * into the consumer's place (O(1), independent of size), and the producer's
 * file stays valid for other consumers until the cache manager unlinks it.
 * Also here: hashing a local file with the transfer's block scheme so a
 * cache manager can checksum an object once, when it is committed. */
#include "dataplane/dp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sl_dp_handoff(const char *src, const char *dst, sl_err *err)
{
    if (link(src, dst) == 0) return 0;
    int e = errno;
    if (e == EXDEV)
        return sl_errf(err, SL_EIO,
                       "cannot hand %s to %s without a copy: different file systems (fetch or "
                       "push it instead)",
                       src, dst);
    if (e == EEXIST) return sl_errf(err, SL_EEXIST, "hand-off target %s already exists", dst);
    return sl_errf(err, SL_EIO, "hand-off %s -> %s: %s", src, dst, strerror(e));
}

int sl_dp_checksum_file(const char *path, uint32_t block_size, uint64_t *checksum, sl_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return sl_errf(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "cannot open %s: %s", path,
                       strerror(errno));
    dp_geom g = {0};
    g.hashes = malloc(8 * SL_DP_MAX_BLOCKS);
    int computed, rc;
    if (!g.hashes)
        rc = sl_errf(err, SL_ENOMEM, "out of memory");
    else if ((rc = dp_file_geom(fd, block_size, &g, &computed, err)) != 0)
        sl_err_prefix(err, "%s", path);
    else if (checksum)
        *checksum = g.checksum;
    free(g.hashes);
    close(fd);
    return rc;
}
