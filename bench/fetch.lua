dofile(os.getenv("BENCH_DIR") .. "/report.lua")
-- POST /fetch with a Bearer fetch token: a page of 50 messages (the same
-- request to $TARGET instead when set: the responder that is the ceiling).
local link = os.getenv("LINK")
local token = os.getenv("TOKEN")
wrk.method = "POST"
wrk.path = os.getenv("TARGET") or "/fetch"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"link_token":"' .. link .. '","include_seen":true,"limit":50}'
