// The README's embedding snippet, verbatim: run.sh copies its #include lines
// to readme_includes.inc and its statements to readme_body.inc. Compiled
// (with -Wall -Wextra -Werror), never run: it names a data dir under /var.
#include "readme_includes.inc"

void readme_snippet() {
#include "readme_body.inc"
}
