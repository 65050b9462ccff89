/* The statements whose SQL text is the same on every backend, written
 * once: each backend's table (sql_<backend>.c) starts with these and adds
 * its own dialect for the rest. */
#ifndef SD_SQL_PORTABLE_H
#define SD_SQL_PORTABLE_H

#define SD_SQL_PORTABLE                                                                        \
	[SQ_PING] = "SELECT 1",                                                                \
	[SQ_SCHEMA_HAS] = "SELECT 1 FROM schema_version WHERE version = ?",                    \
	[SQ_CLIENT_USAGE] = "SELECT msg_count, msg_bytes FROM clients WHERE link_token = ?",   \
	[SQ_CLIENT_SET_HASH] = "UPDATE clients SET fetch_token_hash = ? WHERE link_token = ?", \
	[SQ_CLIENT_CLAIM] = "UPDATE clients SET row_version = row_version + 1 "                \
	                    "WHERE link_token = ?",                                            \
	[SQ_CLIENT_HOOK_FLAG] = "UPDATE clients SET has_webhook = ?, "                         \
	                        "row_version = row_version + 1 WHERE link_token = ?",          \
	[SQ_CLIENT_DELETE] = "DELETE FROM clients WHERE link_token = ?",                       \
	[SQ_CLIENT_DELETE_MSGS] = "DELETE FROM messages WHERE link_token = ?",                 \
	[SQ_CLIENT_DELETE_CHALLENGES] = "DELETE FROM challenges WHERE link_token = ?",         \
	[SQ_CLIENT_DELETE_REQUESTS] = "DELETE FROM message_requests WHERE to_link_token = ? "  \
	                              "OR from_link_token = ?",                                \
	[SQ_MSG_SEEN] = "UPDATE messages SET seen = 1 WHERE id = ? AND link_token = ?",        \
	[SQ_MSG_DELETE] = "DELETE FROM messages WHERE id = ? AND link_token = ?",              \
	[SQ_MSG_DELETE_ID] = "DELETE FROM messages WHERE id = ?",                              \
	[SQ_MSG_BY_KEY] = "SELECT id FROM messages WHERE link_token = ? "                      \
	                  "AND idempotency_key = ?",                                           \
	[SQ_MSG_IDS_UPTO] = "SELECT id FROM messages WHERE link_token = ? AND id > ? "         \
	                    "AND id <= ? ORDER BY id LIMIT ?",                                 \
	[SQ_MSG_SET_THREAD] = "UPDATE messages SET thread_id = ? WHERE id = ?",                \
	[SQ_RCPT_STATUS_SET] = "UPDATE receipt_statuses SET status = ?, pending = 1 "          \
	                       "WHERE message_id = ? AND status < ?",                          \
	[SQ_MSG_THREAD] = "SELECT COALESCE(thread_id, 0) FROM messages WHERE id = ? "          \
	                  "AND link_token = ?",                                                \
	[SQ_RCPT_BY_THREAD] = "SELECT id, replies FROM receipts WHERE link_token = ? "         \
	                      "AND thread_id = ?",                                             \
	[SQ_REPLY_COUNT_LINK] = "SELECT COUNT(*) FROM receipt_replies WHERE link_token = ?",   \
	[SQ_RCPT_RELEASE_CLAIM] = "UPDATE receipt_release SET next_at = ? WHERE id = 1 "       \
	                          "AND (next_at <= ? OR next_at > ?)",                         \
	[SQ_RCPT_PENDING] = "SELECT id FROM receipt_statuses WHERE pending = 1 "               \
	                    "ORDER BY id LIMIT ?",                                             \
	[SQ_RCPT_RELEASE] = "UPDATE receipt_statuses SET released = status, pending = 0 "      \
	                    "WHERE pending = 1 AND id <= ?",                                   \
	[SQ_RCPT_DELETE_STATUSES] = "DELETE FROM receipt_statuses WHERE receipt = ?",          \
	[SQ_RCPT_DELETE_REPLIES] = "DELETE FROM receipt_replies WHERE receipt = ?",            \
	[SQ_CLIENT_DELETE_RCPT_STATUSES] = "DELETE FROM receipt_statuses WHERE receipt IN "    \
	                                   "(SELECT id FROM receipts WHERE link_token = ?)",   \
	[SQ_CLIENT_DELETE_REPLIES] = "DELETE FROM receipt_replies WHERE link_token = ?",       \
	[SQ_CLIENT_DELETE_RECEIPTS] = "DELETE FROM receipts WHERE link_token = ?",             \
	[SQ_CLIENT_TOTALS] = "SELECT COUNT(*), COALESCE(SUM(msg_bytes), 0), "                  \
	                     "COALESCE(SUM(msg_count), 0) FROM clients",                       \
	[SQ_REQ_FIND] =                                                                        \
	    "SELECT id, status, verified FROM message_requests WHERE from_link_token = ? "     \
	    "AND to_link_token = ? ORDER BY id DESC",                                          \
	[SQ_REQ_COUNT_TO] = "SELECT COUNT(*) FROM message_requests WHERE to_link_token = ? "   \
	                    "AND status = 'pending'",                                          \
	[SQ_REQ_COUNT_CALLER] = "SELECT COUNT(*) FROM message_requests WHERE caller = ? "      \
	                        "AND status = 'pending'",                                      \
	[SQ_REQ_SET_VERIFIED] = "UPDATE message_requests SET verified = 1, from_nickname = ? " \
	                        "WHERE id = ?",                                                \
	[SQ_REQ_ALLOWED] = "SELECT 1 FROM message_requests WHERE from_link_token = ? "         \
	                   "AND to_link_token = ? AND status = 'accepted' LIMIT 1"

/* Webhooks and their outbox (store/webhooks.c). */
#define SD_SQL_PORTABLE_HOOKS                                                                    \
	[SQ_HOOK_DELETE] = "DELETE FROM webhooks WHERE link_token = ?",                          \
	[SQ_HOOK_OUTBOX_DELETE] = "DELETE FROM webhook_outbox WHERE link_token = ?",             \
	[SQ_HOOK_GET] = "SELECT w.url, w.kind, w.state, w.last_error, w.failed_at, "             \
	                "w.last_sent_at, o.attempts, o.due_at FROM webhooks w "                  \
	                "LEFT JOIN webhook_outbox o ON o.link_token = w.link_token "             \
	                "WHERE w.link_token = ?",                                                \
	[SQ_HOOK_DUE] = "SELECT link_token FROM webhook_outbox WHERE due_at <= ? "               \
	                "AND claim_until <= ? ORDER BY attempts, due_at LIMIT ?",                \
	[SQ_HOOK_CLAIM] = "UPDATE webhook_outbox SET claim_token = ?, claim_until = ?, "         \
	                  "dirty = 0 WHERE link_token = ? AND due_at <= ? AND claim_until <= ?", \
	[SQ_HOOK_TARGET] = "SELECT w.url, w.kind, o.attempts, w.state FROM webhook_outbox o "    \
	                   "JOIN webhooks w ON w.link_token = o.link_token "                     \
	                   "WHERE o.link_token = ? AND o.claim_token = ?",                       \
	[SQ_HOOK_DONE] = "DELETE FROM webhook_outbox WHERE link_token = ? AND claim_token = ? "  \
	                 "AND dirty = 0",                                                        \
	[SQ_HOOK_REQUEUE] = "UPDATE webhook_outbox SET due_at = ?, attempts = 0, "               \
	                    "claim_token = NULL, claim_until = 0 WHERE link_token = ? "          \
	                    "AND claim_token = ?",                                               \
	[SQ_HOOK_RETRY] = "UPDATE webhook_outbox SET due_at = ?, attempts = attempts + 1, "      \
	                  "claim_token = NULL, claim_until = 0 WHERE link_token = ? "            \
	                  "AND claim_token = ?",                                                 \
	[SQ_HOOK_DROP] = "DELETE FROM webhook_outbox WHERE link_token = ? AND claim_token = ?",  \
	[SQ_HOOK_SENT] = "UPDATE webhooks SET state = 'ok', last_sent_at = ? "                   \
	                 "WHERE link_token = ?",                                                 \
	[SQ_HOOK_FAILED] = "UPDATE webhooks SET last_error = ?, failed_at = ? "                  \
	                   "WHERE link_token = ?",                                               \
	[SQ_HOOK_FAILING] = "UPDATE webhooks SET state = 'failing', last_error = ?, "            \
	                    "failed_at = ? WHERE link_token = ?"

#endif
