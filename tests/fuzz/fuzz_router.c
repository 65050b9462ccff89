/* libFuzzer: whole requests through the router and the handlers, on a
 * real (in-memory) SQLite store. Input: first line "METHOD PATH[?QUERY]",
 * then the body. Never a 500, always a JSON body except for 204. Live
 * events are on (a fixed key), so GET /events runs its whole check. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/event_channel.h"
#include "server/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sd_store *store;
static struct sd_config cfg;

static void init(void)
{
	char err[256];

	if (sd_crypto_init() != 0)
		abort();
	{
		static const unsigned char key[SD_EVENT_KEY_BYTES] = {1};

		sd_event_channel_set_key(key);
	}
	cfg.limits.inbox_max_messages = 100;
	cfg.limits.inbox_max_bytes = 1 << 20;
	cfg.limits.challenges_per_caller = 5;
	cfg.limits.challenge_ttl = 300;
	cfg.limits.requests_per_inbox = 100;
	cfg.limits.requests_per_caller = 20;
	if (store_open("sqlite::memory:", &cfg, &store, err, sizeof err) != SD_OK ||
	    store_migrate(store) != SD_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[256] = "", method[32] = "", path[224] = "", *query;
	struct sd_req req = {0};
	struct sd_resp resp = {0};
	struct sd_ctx ctx = {0};
	const uint8_t *nl;
	char *body;
	size_t head;

	if (store == NULL)
		init();
	if (size > 70000)
		return 0;
	nl = memchr(data, '\n', size);
	head = nl ? (size_t)(nl - data) : size;
	if (head >= sizeof line)
		return 0;
	memcpy(line, data, head);
	if (sscanf(line, "%31s %223s", method, path) != 2)
		return 0;
	body = malloc(size - head + 1);
	if (body == NULL)
		return 0;
	memcpy(body, nl ? nl + 1 : data + size, nl ? size - head - 1 : 0);
	req.body_len = nl ? size - head - 1 : 0;
	body[req.body_len] = '\0';
	if ((query = strchr(path, '?')) != NULL)
		*query++ = '\0';
	req.method = method;
	req.path = path;
	req.query = query;
	req.body = body;
	req.content_length = (int64_t)req.body_len;
	req.remote_addr = "192.0.2.1";
	req.authorization = "Bearer xyz";
	ctx.req = &req;
	ctx.resp = &resp;
	ctx.store = store;
	ctx.cfg = &cfg;
	ctx.now = 1700000000;
	router_dispatch(&ctx);
	if (resp.status >= 500 && resp.status != 503)
		abort();
	if (resp.status != 204 && (resp.body.data == NULL || resp.body.data[0] != '{'))
		abort();
	sd_buf_free(&resp.body);
	free(body);
	return 0;
}
