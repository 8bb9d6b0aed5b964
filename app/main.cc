// phasesweep: the command line (app/src/cli.cc). Every subcommand's logic lives, and is tested,
// in the library that owns it.
#include "phasesweep/app/cli.h"

int main(int argc, char** argv) { return phasesweep::app::RunCli(argc, argv); }
