/* POST /webhook: the owner sets, clears or looks at the inbox's webhook.
 * Setting and clearing point the server's own requests somewhere, so they
 * take only a signature bound to the purpose "webhook"; looking takes what
 * /fetch takes. The URL's shape and, for an IP literal, its address are
 * judged here; a name's addresses are judged when a ping is sent. */
#include <string.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "core/outbound.h"
#include "core/timeutil.h"

enum hook_action { HOOK_STATUS, HOOK_SET, HOOK_CLEAR };
static const char *const actions[] = {"status", "set", "clear", NULL};
static const char *const kinds[] = {"generic", "ntfy", NULL};

_Static_assert(SD_WEBHOOK_URL_MAX == SD_OUTBOUND_URL_MAX, "one URL cap");

struct hook_body {
	char link[SD_LINK_TOKEN_MAX + 1];
	int action;
	int has_action;
	char url[SD_WEBHOOK_URL_MAX + 1];
	int has_url; /* 1 a string, API_GIVEN_NULL null, 0 absent */
	int kind;
	struct auth_proof proof;
};

static const struct api_field hook_fields[] = {
    API_LINK_TOKEN(struct hook_body, link),
    {.name = "action",
     .type = API_ENUM,
     .choices = actions,
     .dflt = HOOK_STATUS,
     API_AT(struct hook_body, action),
     API_PRESENT(struct hook_body, has_action),
     .code = "invalid_action",
     .msg = "action must be one of status, set, clear"},
    {.name = "url",
     .type = API_STRING,
     .flags = API_NULLABLE,
     .min = 1,
     .max = SD_WEBHOOK_URL_MAX,
     API_AT(struct hook_body, url),
     API_PRESENT(struct hook_body, has_url),
     .code = "invalid_url",
     .msg = "url must be a string of 1.." API_STR(SD_WEBHOOK_URL_MAX) " bytes"},
    {.name = "kind",
     .type = API_ENUM,
     .choices = kinds,
     .dflt = 0,
     API_AT(struct hook_body, kind),
     .code = "invalid_kind",
     .msg = "kind must be generic or ntfy"},
    AUTH_PROOF_FIELDS("", struct hook_body, proof),
};

/* The URL an owner may register: 0, or -1 after the 400. https://, or
 * http:// to an address the operator allow-listed; an IP literal must be
 * one a ping may reach. */
static int url_ok_or_reply(struct sd_ctx *ctx, const char *url)
{
	struct sd_url u;
	struct sd_allow allow;
	const char *why;

	if (sd_url_split(url, &u, &why) != 0) {
		reply_error(ctx, 400, "invalid_url", why);
		return -1;
	}
	if (sd_allow_parse(ctx->cfg->webhook.allow, &allow) != 0)
		allow.n = 0; /* refused at start-up already; never widen */
	if (u.host_is_ip && sd_outbound_ip_ok(u.host, &allow) != 1) {
		reply_error(ctx, 400, "webhook_address_refused",
		            "url's address is loopback, private, link-local or otherwise not "
		            "reachable for webhooks");
		return -1;
	}
	if (!u.https && (allow.n == 0 || (u.host_is_ip && sd_outbound_ip_ok(u.host, NULL) == 1))) {
		reply_error(ctx, 400, "invalid_url",
		            "url must be https:// (http:// only to addresses the operator "
		            "allow-listed)");
		return -1;
	}
	return 0;
}

static void time_or_null(struct sd_buf *b, const char *key, time_t t)
{
	char iso[SD_ISO8601_LEN + 1];

	sd_json_key(b, key);
	if (t == 0) {
		sd_buf_puts(b, "null");
		return;
	}
	sd_iso8601(t, iso);
	sd_json_cstr(b, iso);
}

/* {"message": msg, "webhook": {...} or null} */
static void hook_reply(struct sd_ctx *ctx, const char *msg, const char *link)
{
	struct sd_webhook w;
	struct sd_buf *b = &ctx->resp->body;
	enum sd_err e = store_webhook_get(ctx->store, link, &w);

	if (e != SD_OK && e != SD_ENOTFOUND) {
		reply_store_error(ctx, e);
		return;
	}
	reply_json_begin(ctx, 200);
	sd_json_key(b, "message");
	sd_json_cstr(b, msg);
	sd_buf_puts(b, ",");
	sd_json_key(b, "webhook");
	if (e == SD_ENOTFOUND) {
		sd_buf_puts(b, "null");
		reply_json_end(ctx);
		return;
	}
	sd_buf_puts(b, "{");
	sd_json_key(b, "url");
	sd_json_cstr(b, w.url);
	sd_buf_puts(b, ",");
	sd_json_key(b, "kind");
	sd_json_cstr(b, w.kind);
	sd_buf_puts(b, ",");
	sd_json_key(b, "state");
	sd_json_cstr(b, w.failing ? "failing" : "ok");
	sd_buf_puts(b, ",");
	sd_json_key(b, "last_error");
	if (w.last_error[0] != '\0')
		sd_json_cstr(b, w.last_error);
	else
		sd_buf_puts(b, "null");
	sd_buf_puts(b, ",");
	time_or_null(b, "last_failure_at", w.failed_at);
	sd_buf_puts(b, ",");
	time_or_null(b, "last_sent_at", w.last_sent_at);
	sd_buf_printf(b, ",\"pending\":%s,\"attempts\":%lld}", w.pending ? "true" : "false",
	              (long long)(w.pending ? w.attempts : 0));
	reply_json_end(ctx);
}

void api_webhook(struct sd_ctx *ctx)
{
	struct hook_body f;
	struct sd_client c;
	enum sd_err e;

	if (api_fields_or_reply(ctx, hook_fields, SD_ARRAY_LEN(hook_fields), &f) != 0)
		return;
	/* Without an action the url says it: a string sets, null clears. */
	if (!f.has_action && f.has_url)
		f.action = f.has_url == API_GIVEN_NULL ? HOOK_CLEAR : HOOK_SET;
	if (f.action == HOOK_SET && f.has_url != 1) {
		reply_error(ctx, 400, "invalid_url", "action set needs a url");
		return;
	}
	if (f.action != HOOK_SET && f.has_url == 1) {
		reply_error(ctx, 400, "invalid_url", "url goes only with action set");
		return;
	}
	if (f.action == HOOK_SET && url_ok_or_reply(ctx, f.url) != 0)
		return;
	if (api_client_or_reply(ctx, f.link, &c) != 0 ||
	    auth_check_or_reply(ctx, &f.proof, &c,
	                        f.action == HOOK_STATUS ? AUTH_FETCH : AUTH_WEBHOOK) != 0)
		return;
	if (f.action == HOOK_STATUS) {
		hook_reply(ctx, "Webhook state", c.link_token);
		return;
	}
	e = f.action == HOOK_SET
	        ? store_webhook_set(ctx->store, c.link_token, f.url, kinds[f.kind], ctx->now)
	        : store_webhook_clear(ctx->store, c.link_token);
	if (e != SD_OK) {
		reply_store_error(ctx, e);
		return;
	}
	hook_reply(ctx, f.action == HOOK_SET ? "Webhook set" : "Webhook cleared", c.link_token);
}
