/* The one way the client reports an error: a line on stderr that a
 * server's text cannot turn into terminal control. */
#include <stdarg.h>
#include <stdio.h>

#include "client/cli.h"
#include "client/text.h"

void cli_err(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	text_safe_inplace(line);
	fprintf(stderr, "sealdrop: %s\n", line);
}
