/* A response written as FastCGI STDOUT records straight to the connection,
 * with one writev() for a whole page, instead of through libfcgi's 8 KiB
 * stream buffer (a copy and a write() per 8 KiB). */
#ifndef SD_FCGI_STDOUT_H
#define SD_FCGI_STDOUT_H

#include <sys/uio.h>

/* Write the parts, in order, as STDOUT records of request_id to fd: each
 * part its own records of at most 65535 content bytes. Nothing else may be
 * buffered for that stream (libfcgi's end-of-stream record and
 * END_REQUEST come after, from FCGX_Finish_r). Returns 0, or -1 with errno
 * set when the connection failed (the client went away). */
int fcgi_stdout_write(int fd, int request_id, const struct iovec *parts, int nparts);

#endif
