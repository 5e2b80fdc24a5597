/* cmd_report.c - `sluice report`: one self-contained HTML file about a
 * pipeline (work in progress). */
#include "cli/cli.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice: report is not built yet\n");
    return 2;
}
