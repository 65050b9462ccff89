/* MySQL/MariaDB's text for every named statement (statements.h). Times are
 * TIMESTAMP columns, converted at the edge with FROM_UNIXTIME and
 * UNIX_TIMESTAMP (the session time zone is UTC). Rows that decide a cap or
 * a state change are locked with FOR UPDATE. */
#include "store/driver.h"
#include "store/sql_portable.h"

/* A thread's reply count comes from its receipt (none after the receipt's
 * retention). */
#define MSG_COLS                                                                         \
	"id, encrypted_message, UNIX_TIMESTAMP(created_at), seen, metadata, thread_id, " \
	"CASE WHEN thread_id IS NULL THEN NULL ELSE (SELECT r.replies FROM receipts r "  \
	"WHERE r.thread_id = messages.thread_id) END"
/* Index hints: right after a bulk load InnoDB's statistics can make the
 * optimizer walk the primary key instead, thousands of rows per page. */
#define MSG_UNSEEN                                                               \
	"SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_link_seen_id) " \
	"WHERE link_token = ? AND seen = 0 "
#define MSG_ALL                                                             \
	"SELECT " MSG_COLS " FROM messages FORCE INDEX (messages_link_id) " \
	"WHERE link_token = ? "
#define MSG_BOUNDS "AND id < ? AND id > ? ORDER BY id "
/* What a row was charged; rows written before charges were recorded (or by
 * PyCrypt) are charged their size in bytes. */
#define CHARGED                                                \
	"COALESCE(charged, OCTET_LENGTH(encrypted_message) + " \
	"COALESCE(OCTET_LENGTH(metadata), 0))"

const char *const sd_sql_mysql[SQ__MAX] = {
    SD_SQL_PORTABLE,
    [SQ_SCHEMA_CREATE] = "CREATE TABLE IF NOT EXISTS schema_version (version INT PRIMARY KEY, "
                         "name VARCHAR(128) NOT NULL, applied_at TIMESTAMP DEFAULT "
                         "CURRENT_TIMESTAMP) ENGINE=InnoDB",
    [SQ_SCHEMA_RECORD] = "INSERT INTO schema_version (version, name, applied_at) "
                         "VALUES (?, ?, FROM_UNIXTIME(?))",
    [SQ_CLIENT_INSERT] = "INSERT INTO clients (link_token, public_key, public_key_hash, "
                         "display_name, fetch_token_hash, created_at, key_type, box_public_key, "
                         "capabilities) VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(?), ?, ?, ?)",
    [SQ_CLIENT_GET] = "SELECT id, link_token, public_key, public_key_hash, display_name, "
                      "fetch_token_hash, UNIX_TIMESTAMP(created_at), key_type, box_public_key, "
                      "capabilities FROM clients WHERE link_token = ?",
    [SQ_MSG_CHARGE_FILL] = "UPDATE messages SET charged = " CHARGED " WHERE charged IS NULL",
    [SQ_CLIENT_RECOUNT] = "UPDATE clients c SET c.msg_count = (SELECT COUNT(*) FROM messages "
                          "WHERE messages.link_token = c.link_token), c.msg_bytes = "
                          "(SELECT COALESCE(SUM(" CHARGED "), 0) FROM messages "
                          "WHERE messages.link_token = c.link_token)",
    [SQ_CLIENT_LOCK] = "SELECT id FROM clients WHERE link_token = ? FOR UPDATE",
    /* The webhook flag comes back in the OK packet's insert id, read from
     * the row this locks: no statement of its own. */
    [SQ_CLIENT_RESERVE] = "UPDATE clients SET msg_count = msg_count + 1, "
                          "msg_bytes = msg_bytes + ?, has_webhook = LAST_INSERT_ID(has_webhook) "
                          "WHERE link_token = ? AND msg_count < ? AND msg_bytes + ? <= ?",
    [SQ_CLIENT_RELEASE] = "UPDATE clients SET msg_count = GREATEST(msg_count - ?, 0), "
                          "msg_bytes = GREATEST(msg_bytes - ?, 0) WHERE link_token = ?",
    [SQ_MSG_INSERT] = "INSERT INTO messages (link_token, encrypted_message, created_at, seen, "
                      "metadata, size_bytes, charged, idempotency_key, thread_id) "
                      "VALUES (?, ?, FROM_UNIXTIME(?), 0, ?, ?, ?, ?, ?)",
    [SQ_MSG_LIST_UNSEEN_DESC] = MSG_UNSEEN MSG_BOUNDS "DESC LIMIT ?",
    [SQ_MSG_LIST_UNSEEN_ASC] = MSG_UNSEEN MSG_BOUNDS "ASC LIMIT ?",
    [SQ_MSG_LIST_ALL_DESC] = MSG_ALL MSG_BOUNDS "DESC LIMIT ?",
    [SQ_MSG_LIST_ALL_ASC] = MSG_ALL MSG_BOUNDS "ASC LIMIT ?",
    [SQ_MSG_CHARGE] = "SELECT " CHARGED " FROM messages WHERE id = ? AND link_token = ? "
                      "FOR UPDATE",
    [SQ_MSG_OLD] = "SELECT id, link_token, " CHARGED " FROM messages "
                   "WHERE created_at < FROM_UNIXTIME(?) ORDER BY id LIMIT ?",
    [SQ_RCPT_INSERT] = "INSERT INTO receipts (receipt_id, link_token, thread_id, created_at, "
                       "last_activity, released_at) VALUES (?, ?, ?, FROM_UNIXTIME(?), "
                       "FROM_UNIXTIME(?), FROM_UNIXTIME(?))",
    [SQ_RCPT_STATUS_INSERT] = "INSERT INTO receipt_statuses (message_id, receipt, created_at) "
                              "VALUES (?, ?, FROM_UNIXTIME(?))",
    [SQ_RCPT_GET] = "SELECT id, link_token, thread_id, UNIX_TIMESTAMP(created_at), "
                    "UNIX_TIMESTAMP(released_at) FROM receipts WHERE receipt_id = ?",
    [SQ_RCPT_TOUCH] = "UPDATE receipts SET last_activity = FROM_UNIXTIME(?) WHERE id = ?",
    /* A long thread: its first message (the receipt's status) and the
     * newest others, what changed lately; oldest first. */
    [SQ_RCPT_STATUSES] =
        "SELECT * FROM (SELECT message_id, released, UNIX_TIMESTAMP(created_at) FROM "
        "receipt_statuses s WHERE receipt = ? ORDER BY message_id = (SELECT "
        "MIN(message_id) FROM receipt_statuses f WHERE f.receipt = s.receipt) "
        "DESC, message_id DESC LIMIT ?) AS page ORDER BY message_id",
    [SQ_RCPT_REPLIES] = "SELECT id, encrypted_reply, UNIX_TIMESTAMP(created_at) FROM "
                        "receipt_replies WHERE receipt = ? ORDER BY id LIMIT ?",
    [SQ_REPLY_INSERT] = "INSERT INTO receipt_replies (receipt, link_token, encrypted_reply, "
                        "created_at) VALUES (?, ?, ?, FROM_UNIXTIME(?))",
    [SQ_RCPT_REPLIED] = "UPDATE receipts SET replies = replies + 1, "
                        "last_activity = FROM_UNIXTIME(?) WHERE id = ? AND replies < ?",
    [SQ_RCPT_RELEASE_MARK] = "UPDATE receipts SET released_at = FROM_UNIXTIME(?) WHERE id IN "
                             "(SELECT receipt FROM receipt_statuses WHERE pending = 1 "
                             "AND id <= ?)",
    [SQ_RCPT_OLD] = "SELECT id FROM receipts WHERE last_activity < FROM_UNIXTIME(?) "
                    "ORDER BY id LIMIT ?",
    [SQ_RCPT_DELETE_OLD] = "DELETE FROM receipts WHERE id = ? "
                           "AND last_activity < FROM_UNIXTIME(?)",
    [SQ_CH_EXPIRE_LINK] = "DELETE FROM challenges WHERE link_token = ? "
                          "AND expires_at <= FROM_UNIXTIME(?)",
    [SQ_CH_COUNT] = "SELECT COUNT(*) FROM challenges WHERE link_token = ? AND caller = ? "
                    "AND expires_at > FROM_UNIXTIME(?)",
    [SQ_CH_INSERT] = "INSERT INTO challenges (link_token, challenge_nonce, created_at, "
                     "expires_at, used, caller, purpose) VALUES (?, ?, FROM_UNIXTIME(?), "
                     "FROM_UNIXTIME(?), 0, ?, ?)",
    [SQ_CH_CONSUME] = "DELETE FROM challenges WHERE link_token = ? AND challenge_nonce = ? "
                      "AND used = 0 AND expires_at > FROM_UNIXTIME(?) AND purpose <=> ?",
    [SQ_CH_EXPIRE_ALL] = "DELETE FROM challenges WHERE expires_at <= FROM_UNIXTIME(?) LIMIT ?",
    [SQ_REQ_INSERT] = "INSERT INTO message_requests (from_link_token, to_link_token, "
                      "from_nickname, status, created_at, updated_at, verified, caller) "
                      "VALUES (?, ?, ?, 'pending', FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, ?)",
    [SQ_REQ_LIST_PENDING] = "SELECT id, from_link_token, from_nickname, "
                            "UNIX_TIMESTAMP(created_at), verified FROM message_requests "
                            "WHERE to_link_token = ? AND status = 'pending' ORDER BY id LIMIT ?",
    [SQ_REQ_GET] = "SELECT to_link_token, status FROM message_requests WHERE id = ? FOR UPDATE",
    [SQ_REQ_SET_STATUS] = "UPDATE message_requests SET status = ?, "
                          "updated_at = FROM_UNIXTIME(?) WHERE id = ?",
    /* webhooks (store/webhooks.c) */
    SD_SQL_PORTABLE_HOOKS,
    [SQ_HOOK_SET] = "INSERT INTO webhooks (link_token, url, kind, state, created_at) "
                    "VALUES (?, ?, ?, 'ok', ?) ON DUPLICATE KEY UPDATE url = VALUES(url), "
                    "kind = VALUES(kind), state = 'ok', last_error = NULL, failed_at = NULL",
    [SQ_HOOK_LOCK] = "SELECT 1 FROM webhooks WHERE link_token = ? FOR UPDATE",
    /* FOR UPDATE: under READ COMMITTED the SELECT of an INSERT ... SELECT
     * is a snapshot read. Taken while a sender's delivery (which deletes
     * the outbox row and writes last_sent_at) is uncommitted, it would read
     * the old last_sent_at, wait for the row, and then insert a ping due at
     * once, a moment after the one just delivered. Locked, it waits and
     * reads the new time. */
    [SQ_HOOK_ENQUEUE] = "INSERT INTO webhook_outbox (link_token, due_at, attempts, "
                        "claim_until, dirty, created_at) SELECT link_token, "
                        "GREATEST(last_sent_at + ?, ?), 0, 0, 0, ? FROM webhooks "
                        "WHERE link_token = ? FOR UPDATE ON DUPLICATE KEY UPDATE dirty = 1",
};
