#include "proto/http.h"

const char *http_status_line(int status)
{
	switch (status) {
	case 200:
		return "200 OK";
	case 201:
		return "201 Created";
	case 204:
		return "204 No Content";
	case 400:
		return "400 Bad Request";
	case 401:
		return "401 Unauthorized";
	case 403:
		return "403 Forbidden";
	case 404:
		return "404 Not Found";
	case 405:
		return "405 Method Not Allowed";
	case 409:
		return "409 Conflict";
	case 413:
		return "413 Payload Too Large";
	case 429:
		return "429 Too Many Requests";
	case 503:
		return "503 Service Unavailable";
	case 507:
		return "507 Insufficient Storage";
	default:
		return "500 Internal Server Error";
	}
}

void http_head(const struct sd_resp *r, struct sd_buf *out)
{
	sd_buf_printf(out, "Status: %s\r\n", http_status_line(r->status));
	if (r->status != 204)
		sd_buf_puts(out, "Content-Type: application/json; charset=utf-8\r\n");
	/* Every API answer: never cached, readable from any origin (nothing
	 * authenticates by cookie, so open CORS gives nothing away). */
	sd_buf_puts(out, "Cache-Control: no-store\r\n"
	                 "Access-Control-Allow-Origin: *\r\n"
	                 "X-Content-Type-Options: nosniff\r\n");
	if (r->allow != NULL) {
		sd_buf_printf(out, "Allow: %s\r\n", r->allow);
		if (r->status == 204)
			sd_buf_printf(
			    out,
			    "Access-Control-Allow-Methods: %s\r\n"
			    "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
			    "Access-Control-Max-Age: 86400\r\n",
			    r->allow);
	}
	if (r->retry_after > 0)
		sd_buf_printf(out, "Retry-After: %lld\r\n", (long long)r->retry_after);
	sd_buf_printf(out, "Content-Length: %zu\r\n\r\n", r->status == 204 ? 0 : r->body.len);
}
