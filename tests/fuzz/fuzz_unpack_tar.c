/* fuzz_unpack_tar.c - libFuzzer harness: unpack's archive reading
 * (modules/unpack/source.c zstd + extract.c tar walking and member checks).
 *
 * Input: one option byte (bit 0 --by-channel, bit 1 members must be 512
 * bytes, bit 2 exactly two members), then the archive, plain tar or zstd.
 * It is extracted exactly as unpack does (extract_tar, then extract_commit)
 * into a fresh directory SANDBOX/out under /dev/shm. Afterwards the sandbox
 * must hold nothing but out/, and out/ only regular single-link files and
 * directories (no link, device or fifo, nothing else), each file no larger
 * than EXTRACT_MAX_MEMBER and without holes, one file per member (no temp
 * left behind); on a refusal out/ must
 * be empty again (all or nothing) and the refusal must say why. Any breach
 * is abort(). out/ is removed after each input. */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract.h"
#include "memfile.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sandbox[256], outdir[300];
static int nentries, nfiles;

static int remove_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

/* Every entry below out/ must be a directory or a plain, unlinked file. */
static int check_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (!strcmp(p, outdir)) return 0;
    nentries++;
    if (flag == FTW_SL || flag == FTW_SLN || S_ISLNK(sb->st_mode)) {
        fprintf(stderr, "fuzz_unpack_tar: symlink %s created\n", p);
        abort();
    }
    if (S_ISDIR(sb->st_mode)) return 0;
    nfiles++;
    if (!S_ISREG(sb->st_mode) || sb->st_nlink != 1) {
        fprintf(stderr, "fuzz_unpack_tar: %s is not a plain file (mode %o, %lu links)\n", p,
                (unsigned)sb->st_mode, (unsigned long)sb->st_nlink);
        abort();
    }
    return 0;
}

/* The sandbox holds out/ and nothing else. */
static void check_sandbox(void)
{
    DIR *d = opendir(sandbox);
    if (!d) abort();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "out"))
            continue;
        fprintf(stderr, "fuzz_unpack_tar: %s/%s created outside the output directory\n", sandbox,
                e->d_name);
        abort();
    }
    closedir(d);
}

static void cleanup_sandbox(void)
{
    nftw(sandbox, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sandbox[0]) {
        snprintf(sandbox, sizeof sandbox, "/dev/shm/sluice-fuzz-unpack.%d", (int)getpid());
        snprintf(outdir, sizeof outdir, "%s/out", sandbox);
        nftw(sandbox, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        if (mkdir(sandbox, 0700)) abort();
        atexit(cleanup_sandbox);
    }
    if (size < 1) return 0;
    if (mkdir(outdir, 0700)) abort();
    extract_opts o = {.outdir = outdir,
                      .by_channel = data[0] & 1,
                      .member_size = (data[0] & 2) ? 512 : 0,
                      .want_ch = -1,
                      .gps_lo = -1,
                      .gps_hi = -1,
                      .expect_members = (data[0] & 4) ? 2 : 0};
    const char *path = memfile_put(data + 1, size - 1);
    char err[1024] = "";
    source *src = source_open(path, err, sizeof err);
    if (!src) abort(); /* the memfd always opens */
    extract_set set = {0};
    int rc = extract_tar(src, "fuzz", &o, &set, err, sizeof err);
    if (!rc) rc = extract_commit(&set, err, sizeof err);
    check_sandbox();
    nentries = nfiles = 0;
    if (nftw(outdir, check_one, 16, FTW_PHYS)) abort();
    if (rc) {
        fuzz_note("extract", err);
        if (!err[0]) abort();
        if (nentries) {
            fprintf(stderr, "fuzz_unpack_tar: refused (%s) but left %d entries behind\n", err,
                    nentries);
            abort();
        }
    } else {
        if ((size_t)nfiles != set.n) { /* a temp left behind, or a stray file */
            fprintf(stderr, "fuzz_unpack_tar: %zu members but %d files\n", set.n, nfiles);
            abort();
        }
        for (size_t i = 0; i < set.n; i++) {
            struct stat sb;
            if (strncmp(set.v[i].final, outdir, strlen(outdir)) != 0 ||
                lstat(set.v[i].final, &sb) || !S_ISREG(sb.st_mode))
                abort();
            if (o.member_size && sb.st_size != o.member_size) abort();
            /* every byte came from the archive: no holes (a sparse member
             * declaring a terabyte), no member beyond the size cap */
            if (sb.st_size > EXTRACT_MAX_MEMBER || (int64_t)sb.st_blocks * 512 < sb.st_size) {
                fprintf(stderr, "fuzz_unpack_tar: %s has %lld bytes, %lld allocated\n",
                        set.v[i].final, (long long)sb.st_size, (long long)sb.st_blocks * 512);
                abort();
            }
        }
    }
    extract_free(&set);
    source_close(src);
    nftw(outdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
