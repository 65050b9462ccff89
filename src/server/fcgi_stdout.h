/* A whole FastCGI response written straight to the connection with one
 * writev(): the STDOUT records of head and body, the empty STDOUT record
 * that ends the stream, and END_REQUEST. libfcgi's stream would copy the
 * response into an 8 KiB buffer, write a record per 8 KiB, and write the
 * end records as it finishes the request. */
#ifndef SD_FCGI_STDOUT_H
#define SD_FCGI_STDOUT_H

#include <sys/uio.h>

/* Write the parts, in order, as STDOUT records of request_id to fd (each
 * part its own records of at most 65535 content bytes), then the end of
 * STDOUT and END_REQUEST (complete, status 0). Nothing may have been
 * written to the request's libfcgi streams, and the caller marks its
 * STDOUT stream closed so FCGX_Finish_r does not end it twice. Returns 0,
 * or -1 with errno set when the connection failed (the client went away). */
int fcgi_response_write(int fd, int request_id, const struct iovec *parts, int nparts);

#endif
