/* charliecloud.c - the charliecloud runtime (`ch-run`, unprivileged, common
 * on HPC systems).
 *
 * ch-run runs a directory image in new user and mount namespaces, in the
 * calling process: no daemon and no per-slot container to keep (a start
 * costs little), and the agent's process-group kill reaches the module. The
 * image is a directory path, or a name such as sluice/beam-maker:0.1.0 found
 * as $SLUICE_CH_IMAGES/sluice%beam-maker+0.1.0 (charliecloud's own storage
 * naming; default /var/tmp/sluice/ch), made from the podman image by
 * dockerfiles/ch-image.sh. ch-run only binds onto existing paths and mounts
 * the image read-only, so the cache tiers and work root are created inside
 * the image directory first (under /tmp ch-run makes them in its private
 * tmpfs itself).
 * The host network is shared; cpus/memory are not enforced (no cgroups). */
#include "runtime/container.h"
#include "util/buf.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_STORE "/var/tmp/sluice/ch"

static char *image_dir(const char *image)
{
    if (image[0] == '/' || image[0] == '.') return sl_xstrdup(image);
    const char *store = getenv("SLUICE_CH_IMAGES");
    char *name = sl_xstrdup(image);
    for (char *p = name; *p; p++)
        if (*p == '/')
            *p = '%';
        else if (*p == ':')
            *p = '+';
    char *d = sl_xasprintf("%s/%s", store && *store ? store : DEFAULT_STORE, name);
    free(name);
    return d;
}

static int mkdirs_in(const char *root, const char *path)
{
    char *p = sl_xasprintf("%s%s", root, path);
    int rc = 0;
    for (char *s = p + strlen(root) + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST) rc = -1;
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    return rc;
}

static int ch_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    *exit_code = 0;
    if (!s->stage->image || !s->stage->image[0])
        return sl_errf(err, SL_EINVAL, "stage has runtime charliecloud but no image");
    char *img = image_dir(s->stage->image);
    struct stat st;
    if (stat(img, &st) < 0 || !S_ISDIR(st.st_mode)) {
        int rc = sl_errf(err, SL_ENOTFOUND,
                         "charliecloud image directory %s not found (image %s); make it with: "
                         "make images && dockerfiles/ch-image.sh %s",
                         img, s->stage->image, s->stage->image);
        free(img);
        return rc;
    }
    char *work_root = sl_runtime_work_root(s->workdir);
    const char *binds[] = {s->mem_root, s->ssd_root, work_root};
    sl_argv a = {0};
    sl_argv_add(&a, "ch-run");
    sl_argv_add(&a, "--private-tmp"); /* else the host's /tmp is shared */
    sl_argv_add(&a, "--unset-env=*");
    sl_argv_add(&a, "--set-env=PATH=/usr/local/bin:/usr/bin:/bin");
    for (char *const *e = s->envp; e && *e; e++)
        if (sl_runtime_env_passes(s->stage, *e)) sl_argv_addf(&a, "--set-env=%s", *e);
    sl_argv_add(&a, "--env-no-expand");
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        if (!binds[i] || !binds[i][0]) continue;
        if (mkdirs_in(img, binds[i]) < 0)
            rc = sl_errf(err, SL_EIO, "cannot create mount point %s in image %s: %s", binds[i], img,
                         strerror(errno));
        sl_argv_addf(&a, "--bind=%s", binds[i]);
    }
    sl_argv_addf(&a, "--cd=%s", s->workdir);
    sl_argv_add(&a, img);
    sl_argv_add(&a, "--");
    for (char *const *v = s->argv; *v; v++)
        sl_argv_add(&a, *v);
    /* ch-run itself wants $USER and finds nothing else in our environment */
    sl_argv env = {0};
    for (char *const *e = s->envp; e && *e; e++)
        if (!strncmp(*e, "PATH=", 5) || !strncmp(*e, "USER=", 5) || !strncmp(*e, "HOME=", 5))
            sl_argv_add(&env, *e);
    if (!getenv("USER")) {
        struct passwd *pw = getpwuid(getuid());
        sl_argv_addf(&env, "USER=%s", pw ? pw->pw_name : "root");
    }
    if (rc == 0) rc = sl_spawn(a.v, env.v, s->workdir, s->stdout_path, s->stderr_path, pid, err);
    if (rc == SL_ENOTFOUND && !strstr(err->msg, "image"))
        rc = sl_errf(err, SL_ENOTFOUND,
                     "ch-run is not installed on this host (runtime: charliecloud); install it "
                     "with: scripts/install-deps.sh --containers");
    sl_argv_free(&a);
    sl_argv_free(&env);
    free(work_root);
    free(img);
    return rc;
}

const sl_runtime sl_runtime_charliecloud = {"charliecloud", ch_start, NULL, NULL};
