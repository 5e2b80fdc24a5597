/* pull_unpack_main.c - `pull-unpack`: repacked .tar.zst (path or URL) ->
 * channel files in the memory cache. The work is in unpack_cli.c. */
#include "unpack_cli.h"

int main(int argc, char **argv)
{
    return unpack_cli(argc, argv, 1);
}
