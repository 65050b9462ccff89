dofile(os.getenv("BENCH_DIR") .. "/report.lua")
-- POST /send with sealed boxes prepared by bench/run (one JSON body per
-- line in BODIES), round-robin over them.
dofile(os.getenv("BENCH_DIR") .. "/bodies.lua")
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/send", nil, bodies[i])
end
