dofile(os.getenv("BENCH_DIR") .. "/report.lua")
-- POST /fetch with pre-signed single-use challenges (one body per line in
-- BODIES; bench/run stores the challenges). Each body is used once: when
-- they run out, requests repeat the last one and get 401, which the report
-- counts as errors, so BODIES must outnumber the requests.
dofile(os.getenv("BENCH_DIR") .. "/bodies.lua")
local i = 0
local t = 0
setup = function(thread)
  t = t + 1
  thread:set("offset", t)
  thread:set("stride", 2)
end
request = function()
  local k = offset + i * stride
  i = i + 1
  if k > #bodies then k = #bodies end
  return wrk.format("POST", "/fetch", {["Content-Type"] = "application/json"}, bodies[k])
end
