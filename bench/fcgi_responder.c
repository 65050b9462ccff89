/* The smallest useful libfcgi responder: the ceiling any FastCGI program
 * can reach behind the same nginx on the same machine. bench/run measures
 * sealdropd's scenarios as ratios to it, in the same run.
 *   fcgi_responder SOCKET_PATH BODY_BYTES THREADS
 * Each thread accepts, reads the request body to its end (as sealdropd
 * does), and answers a fixed JSON body of BODY_BYTES bytes. Behind nginx's
 * upstream keepalive a thread stays on its kept connection while it is idle
 * (plain libfcgi), so bench.py keeps fewer connections than it has threads. */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int listen_fd;
static char *body;
static size_t body_len;

static void *serve(void *arg)
{
	FCGX_Request req;
	char sink[16384], head[256];
	int head_len;

	(void)arg;
	/* libfcgi's own printf knows no %zu: the head is made once, here. */
	head_len = snprintf(head, sizeof head,
	                    "Status: 200 OK\r\nContent-Type: application/json\r\n"
	                    "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
	                    body_len);
	if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(sink, sizeof sink, req.in) > 0)
			;
		FCGX_PutStr(head, head_len, req.out);
		FCGX_PutStr(body, (int)body_len, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads;
	pthread_t *t;

	if (argc != 4 || (body_len = strtoul(argv[2], NULL, 10)) < 2 ||
	    (threads = strtol(argv[3], NULL, 10)) < 1 || threads > 256) {
		fprintf(stderr, "usage: fcgi_responder SOCKET_PATH BODY_BYTES THREADS\n");
		return 2;
	}
	if ((body = malloc(body_len)) == NULL || (t = calloc((size_t)threads, sizeof *t)) == NULL)
		return 1;
	/* A JSON string of the requested size: {"x":"xxx…"} */
	memset(body, 'x', body_len);
	if (body_len >= 8) {
		memcpy(body, "{\"x\":\"", 6);
		memcpy(body + body_len - 2, "\"}", 2);
	}
	if (FCGX_Init() != 0 || (listen_fd = FCGX_OpenSocket(argv[1], 128)) < 0) {
		fprintf(stderr, "fcgi_responder: cannot listen on %s\n", argv[1]);
		return 1;
	}
	chmod(argv[1], 0666);
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, serve, NULL) != 0)
			return 1;
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
