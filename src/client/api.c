/* Calls shared by the commands: signed challenges and status mapping. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "client/cli.h"
#include "core/b64.h"

int api_status(const char *what, const struct http_reply *r)
{
	if (r->status >= 200 && r->status < 300)
		return EX_OK_;
	cli_err("%s: the server answered %ld: %s", what, r->status, http_error_text(r));
	return r->status == 401 ? EX_AUTH_ : EX_SERVER_;
}

int api_sign_into(const struct identity *id, const struct secret_keys *sk, json_object *body)
{
	char url[768], sig_b64[SD_B64_LEN(64) + 1];
	unsigned char sig[64];
	json_object *req = json_object_new_object(), *v;
	struct http_reply r;
	const char *challenge;
	int rc;

	snprintf(url, sizeof url, "%s/challenge_request", id->server);
	json_object_object_add(req, "link_token", json_object_new_string(id->link_token));
	rc = http_json("POST", url, req, NULL, &r);
	json_object_put(req);
	if (rc != EX_OK_)
		return rc;
	if ((rc = api_status("challenge", &r)) != EX_OK_)
		goto out;
	if (r.json == NULL || !json_object_object_get_ex(r.json, "challenge", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		cli_err("challenge: the server's answer has no challenge");
		rc = EX_SERVER_;
		goto out;
	}
	challenge = json_object_get_string(v);
	crypto_sign_detached(sig, NULL, (const unsigned char *)challenge, strlen(challenge),
	                     sk->sign_sk);
	sd_b64_encode(sig, sizeof sig, sig_b64);
	json_object_object_add(body, "challenge", json_object_new_string(challenge));
	json_object_object_add(body, "challenge_signature", json_object_new_string(sig_b64));
out:
	http_reply_free(&r);
	return rc;
}
