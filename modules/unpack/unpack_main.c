/* unpack_main.c - `unpack`: per-second product tar -> channel files.
 * All the work is in unpack_cli.c, shared with pull-unpack. */
#include "unpack_cli.h"

int main(int argc, char **argv)
{
    return unpack_cli(argc, argv, 0);
}
