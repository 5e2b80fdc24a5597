/* test_slurm.c - framework/slurm without a cluster: Slurm time syntax, the
 * batch script `sluice slurm up` submits (options, het components, drain,
 * controller inside), option checks, and parsing of sbatch --parsable and
 * squeue output (prefix and comment filters, het rows), plus running a real
 * program through sl_slurm_exec. The script itself runs in
 * tests/slurm/test_slurm.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slurm/slurm.h"

static void test_time(void **state)
{
    (void)state;
    assert_int_equal(sl_slurm_parse_time("30"), 1800);
    assert_int_equal(sl_slurm_parse_time("30:15"), 1815);
    assert_int_equal(sl_slurm_parse_time("2:00:00"), 7200);
    assert_int_equal(sl_slurm_parse_time("1-0"), 86400);
    assert_int_equal(sl_slurm_parse_time("1-2:30"), 86400 + 2 * 3600 + 1800);
    assert_int_equal(sl_slurm_parse_time("1-02:00:05"), 86400 + 7205);
    assert_int_equal(sl_slurm_parse_time("infinite"), -1);
    assert_int_equal(sl_slurm_parse_time(""), SL_EINVAL);
    assert_int_equal(sl_slurm_parse_time("1:2:3:4"), SL_EINVAL);
    assert_int_equal(sl_slurm_parse_time("2h"), SL_EINVAL);
    assert_int_equal(sl_slurm_parse_time("-5"), SL_EINVAL);
    assert_int_equal(sl_slurm_parse_time("10:"), SL_EINVAL);
}

static sl_slurm_opts base(void)
{
    sl_slurm_opts o = {0};
    o.nodes = 4;
    o.controller = "10.0.0.1:7470";
    o.sluice = "/opt/sluice/bin/sluice";
    return o;
}

static char *render(const sl_slurm_opts *o)
{
    sl_buf b = SL_BUF_INIT;
    sl_err e = {0};
    assert_int_equal(sl_slurm_render_script(o, &b, &e), 0);
    return sl_buf_steal(&b);
}

static void test_script(void **state)
{
    (void)state;
    sl_slurm_opts o = base();
    const char *groups[] = {"mwa", "ch109"}, *sb[] = {"--mem=0"};
    o.partition = "work";
    o.time = "1-00:00:00";
    o.qos = "high";
    o.account = "pawsey0123";
    o.constraint = "nvme&avx512";
    o.reservation = "mwa-res";
    o.exclusive = 1;
    o.groups = groups;
    o.ngroups = 2;
    o.sbatch = sb;
    o.nsbatch = 1;
    o.drain_s = 120;
    char *s = render(&o);
    const char *want[] = {"#!/bin/sh\n",
                          "#SBATCH --job-name=sluice-agents\n",
                          "#SBATCH --comment=sluice:10.0.0.1:7470\n",
                          "#SBATCH --no-kill\n",
                          "#SBATCH --nodes=4\n",
                          "#SBATCH --partition=work\n",
                          "#SBATCH --time=1-00:00:00\n",
                          "#SBATCH --qos=high\n",
                          "#SBATCH --account=pawsey0123\n",
                          "#SBATCH --constraint=nvme&avx512\n",
                          "#SBATCH --reservation=mwa-res\n",
                          "#SBATCH --exclusive\n",
                          "#SBATCH --mem=0\n",
                          "#SBATCH --signal=TERM@120\n",
                          "export SLUICE_SLURM_BIN='/opt/sluice/bin/sluice'\n",
                          "export SLUICE_SLURM_CONTROLLER='10.0.0.1:7470'\n",
                          "export SLUICE_SLURM_GROUPS='mwa ch109'\n",
                          "export SLUICE_SLURM_DRAIN=110\n",
                          "export SLUICE_SLURM_MEM='/dev/shm'\n",
                          "srun \"$@\" --ntasks-per-node=1",
                          "agent \"$@\" &",
                          "--drain-on-term"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(s, want[i])) fail_msg("script lacks '%s':\n%s", want[i], s);
    /* every #SBATCH line comes before the first command (sbatch stops there) */
    char *first_cmd = strstr(s, "\nexport ");
    assert_non_null(first_cmd);
    char *last_sbatch = NULL;
    for (char *p = strstr(s, "#SBATCH"); p; p = strstr(p + 1, "#SBATCH"))
        last_sbatch = p;
    assert_true(last_sbatch < first_cmd);
    assert_null(strstr(s, "hetjob"));
    free(s);
}

static void test_het_and_inside(void **state)
{
    (void)state;
    sl_slurm_opts o = base();
    o.het_ingest = 1;
    o.nodes = 3;
    o.partition = "work";
    o.controller_inside = 1;
    o.controller = "0.0.0.0:7555";
    char *s = render(&o);
    char *n1 = strstr(s, "#SBATCH --nodes=1\n"), *h = strstr(s, "#SBATCH hetjob\n"),
         *n3 = strstr(s, "#SBATCH --nodes=3\n");
    assert_true(n1 && h && n3 && n1 < h && h < n3);
    /* the partition goes into each component */
    assert_true(strstr(n1, "--partition=work") < h && strstr(n3, "--partition=work"));
    assert_non_null(strstr(s, "agents --het-group=0"));
    assert_non_null(strstr(s, "SLUICE_SLURM_COMPONENT=compute; agents --het-group=1"));
    assert_non_null(strstr(s, "controller --state"));
    assert_non_null(strstr(s, "--listen '0.0.0.0:7555'"));
    assert_non_null(strstr(s, "SLUICE_SLURM_CONTROLLER=\"$(hostname):7555\""));
    assert_non_null(strstr(s, "#SBATCH --comment=sluice:inside:0.0.0.0:7555\n"));
    assert_null(strstr(s, "--signal"));
    free(s);
}

static void test_bad_opts(void **state)
{
    (void)state;
    sl_err e = {0};
    sl_slurm_opts o = base();
    o.partition = "a b";
    assert_int_equal(sl_slurm_check_opts(&o, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "partition"));
    o = base();
    o.time = "2 hours";
    assert_int_equal(sl_slurm_check_opts(&o, &e), SL_EINVAL);
    o = base();
    o.time = "10";
    o.drain_s = 600;
    assert_int_equal(sl_slurm_check_opts(&o, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "drain"));
    o = base();
    o.nodes = 0;
    assert_int_equal(sl_slurm_check_opts(&o, &e), SL_EINVAL);
    o = base();
    const char *g[] = {"bad/group"};
    o.groups = g;
    o.ngroups = 1;
    assert_int_equal(sl_slurm_check_opts(&o, &e), SL_EINVAL);
    o = base();
    const char *sb[] = {"mem=0"};
    o.sbatch = sb;
    o.nsbatch = 1;
    assert_int_equal(sl_slurm_check_opts(&o, &e), SL_EINVAL);
    o = base();
    o.mem_root = "/dev/shm/it's";
    assert_int_equal(sl_slurm_check_opts(&o, &e), SL_EINVAL);
}

static void test_parse_sbatch(void **state)
{
    (void)state;
    int64_t id = 0;
    sl_err e = {0};
    assert_int_equal(sl_slurm_parse_sbatch("1234\n", &id, &e), 0);
    assert_int_equal(id, 1234);
    assert_int_equal(sl_slurm_parse_sbatch("sbatch: warning: x\n77;cluster2\n", &id, &e), 0);
    assert_int_equal(id, 77);
    assert_int_equal(sl_slurm_parse_sbatch("", &id, &e), SL_EINVAL);
    assert_int_equal(sl_slurm_parse_sbatch("Submitted batch job x\n", &id, &e), SL_EINVAL);
}

static void test_parse_squeue(void **state)
{
    (void)state;
    const char *out =
        "12|sluice-agents|RUNNING|4|1:02|1:00:00|debug|sluice:127.0.0.1:7470|node[1-4]\n"
        "13+0|sluice-agents|RUNNING|1|0:10|30:00|debug|sluice:127.0.0.1:7470|node5\n"
        "13+1|sluice-agents|PENDING|3|0:00|30:00|debug|sluice:127.0.0.1:7470|\n"
        "14|other|RUNNING|1|0:01|UNLIMITED|debug||node6\n"
        "15|sluice-agents|RUNNING|2|0:01|UNLIMITED|debug|sluice:10.1.1.1:7470|n[7-8]\n";
    sl_slurm_job *j = NULL;
    sl_err e = {0};
    int n = sl_slurm_parse_squeue(out, "sluice-agents", "sluice:127.0.0.1:7470", &j, &e);
    assert_int_equal(n, 3);
    assert_string_equal(j[0].id, "12");
    assert_int_equal(j[0].job_id, 12);
    assert_int_equal(j[0].nodes, 4);
    assert_string_equal(j[0].nodelist, "node[1-4]");
    assert_string_equal(j[0].limit, "1:00:00");
    assert_string_equal(j[1].id, "13+0");
    assert_int_equal(j[1].job_id, 13);
    assert_string_equal(j[2].state, "PENDING");
    assert_string_equal(j[2].nodelist, "");
    sl_slurm_jobs_free(j, n);
    n = sl_slurm_parse_squeue(out, NULL, NULL, &j, &e);
    assert_int_equal(n, 5);
    sl_slurm_jobs_free(j, n);
    assert_int_equal(sl_slurm_parse_squeue("", NULL, NULL, &j, &e), 0);
    assert_int_equal(sl_slurm_parse_squeue("garbage\n", NULL, NULL, &j, &e), SL_EINVAL);
}

static void test_exec(void **state)
{
    (void)state;
    sl_buf out = SL_BUF_INIT;
    sl_err e = {0};
    char *cat[] = {"cat", NULL};
    assert_int_equal(sl_slurm_exec(cat, "hello\n", &out, &e), 0);
    assert_string_equal(out.data, "hello\n");
    char *f[] = {"false", NULL};
    assert_int_equal(sl_slurm_exec(f, NULL, NULL, &e), 1);
    char *none[] = {"sluice-no-such-program", NULL};
    assert_true(sl_slurm_exec(none, NULL, NULL, &e) < 0);
    sl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),           cmocka_unit_test(test_script),
        cmocka_unit_test(test_het_and_inside), cmocka_unit_test(test_bad_opts),
        cmocka_unit_test(test_parse_sbatch),   cmocka_unit_test(test_parse_squeue),
        cmocka_unit_test(test_exec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
