/* secrets.c - the controller's credentials on disk and the check of every
 * call's credential (see secrets.h). */
#include "controller/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "controller/crypto.h"

static int random_bytes(uint8_t *out, size_t n, sl_err *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return sl_errf(err, SL_EIO, "getrandom: %s", strerror(errno));
        got += (size_t)r;
    }
    return 0;
}

/* Reads a secret file's first line into out (n bytes). 1 if read, 0 if
 * the file does not exist, <0 on error. */
static int read_secret(const char *path, char *out, size_t n, sl_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return sl_errf(err, SL_EIO, "cannot read %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        close(fd);
        return sl_errf(err, SL_EINVAL,
                       "%s may be read by other users (mode %03o): anyone could have copied it; "
                       "remove it to have a new one made, or chmod 600 it if you are sure",
                       path, (unsigned)(st.st_mode & 0777));
    }
    ssize_t r = read(fd, out, n - 1);
    close(fd);
    if (r < 0) return sl_errf(err, SL_EIO, "cannot read %s: %s", path, strerror(errno));
    out[r] = 0;
    out[strcspn(out, "\r\n")] = 0;
    if (!out[0]) return sl_errf(err, SL_EINVAL, "%s is empty; remove it to have one made", path);
    return 1;
}

/* Creates path with content, mode 0600, atomically (temp + rename). */
static int write_secret(const char *path, const char *content, sl_err *err)
{
    char *tmp = sl_xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) ||
        write(fd, "\n", 1) != 1 || fsync(fd) < 0)
        rc = sl_errf(err, SL_EIO, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = sl_errf(err, SL_EIO, "cannot write %s: %s", path, strerror(errno));
    if (rc < 0) unlink(tmp);
    free(tmp);
    return rc;
}

/* A token "KIND.<64 hex>" kept in dir/KIND.token. */
static int load_token(const char *dir, const char *kind, char *out, size_t n, sl_err *err)
{
    char *path = sl_xasprintf("%s/%s.token", dir, kind);
    int rc = read_secret(path, out, n, err);
    if (rc == 0) {
        uint8_t rnd[32];
        char h[65];
        if ((rc = random_bytes(rnd, sizeof rnd, err)) == 0) {
            sl_hex(rnd, sizeof rnd, h);
            snprintf(out, n, "%s.%s", kind, h);
            rc = write_secret(path, out, err);
            OPENSSL_cleanse(rnd, sizeof rnd);
        }
    }
    free(path);
    return rc < 0 ? rc : 0;
}

static int load_master(const char *dir, uint8_t key[32], sl_err *err)
{
    char *path = sl_xasprintf("%s/master.key", dir);
    char h[80];
    int rc = read_secret(path, h, sizeof h, err);
    if (rc == 1) {
        if (strlen(h) != 64) {
            rc = sl_errf(err, SL_EINVAL, "%s is not 64 hex digits; remove it to have one made",
                         path);
        } else {
            for (int i = 0; i < 32 && rc >= 0; i++) {
                unsigned v;
                if (sscanf(h + 2 * i, "%2x", &v) != 1)
                    rc = sl_errf(err, SL_EINVAL, "%s is not hex; remove it to have one made", path);
                key[i] = (uint8_t)v;
            }
        }
    } else if (rc == 0) {
        if ((rc = random_bytes(key, 32, err)) == 0) {
            sl_hex(key, 32, h);
            rc = write_secret(path, h, err);
        }
    }
    OPENSSL_cleanse(h, sizeof h);
    free(path);
    return rc < 0 ? rc : 0;
}

int sl_secrets_load(const char *state_dir, sl_secrets *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    char *dir = sl_xasprintf("%s/secrets", state_dir);
    int rc = 0;
    struct stat st;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        rc = sl_errf(err, SL_EIO, "cannot create %s: %s", dir, strerror(errno));
    else if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        rc = sl_errf(err, SL_EIO, "%s is not a directory", dir);
    else if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
        rc = sl_errf(err, SL_EIO, "cannot restrict %s to its owner: %s", dir, strerror(errno));
    if (rc == 0) rc = load_token(dir, "user", out->user, sizeof out->user, err);
    if (rc == 0) rc = load_token(dir, "join", out->join, sizeof out->join, err);
    if (rc == 0) rc = load_master(dir, out->master, err);
    free(dir);
    if (rc < 0) sl_secrets_clear(out);
    return rc;
}

int sl_secrets_auth(void *ctx, const char *cred, size_t len, sl_rpc_caller *who)
{
    const sl_secrets *s = ctx;
    (void)len; /* cred is NUL-terminated */
    if (sl_secret_eq(cred, s->user)) {
        who->role = SL_ROLE_USER;
        return 0;
    }
    if (sl_secret_eq(cred, s->join)) {
        who->role = SL_ROLE_JOIN;
        return 0;
    }
    if (s->sched && sl_sched_agent_auth(s->sched, cred, who->host, sizeof who->host) == 0) {
        who->role = SL_ROLE_AGENT;
        return 0;
    }
    return SL_EAUTH;
}

void sl_secrets_clear(sl_secrets *s)
{
    OPENSSL_cleanse(s, sizeof *s);
}
