/* unpack_cli.h - entry point shared by the unpack and pull-unpack programs
 * (pull = 1 selects pull-unpack's options and checks). Returns the exit
 * status: 0 all inputs stored and emitted, 1 some failed, 2 usage error. */
#ifndef UNPACK_CLI_H
#define UNPACK_CLI_H

int unpack_cli(int argc, char **argv, int pull);

#endif
