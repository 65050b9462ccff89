dofile(os.getenv("BENCH_DIR") .. "/report.lua")
-- POST /challenge_request round-robin over many inboxes (BODIES), so the
-- per-address cap of outstanding challenges is not what is measured.
dofile(os.getenv("BENCH_DIR") .. "/bodies.lua")
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/challenge_request", {["Content-Type"] = "application/json"}, bodies[i])
end
