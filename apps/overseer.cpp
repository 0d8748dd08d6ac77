// overseer: the command-line client of overseerd (docs/cli.md).
#include "cli/app.hpp"

int main(int argc, char** argv) { return overseer::cli::run(argc, argv); }
