dofile(os.getenv("BENCH_DIR") .. "/report.lua")
-- POST /send with sealed boxes prepared by bench/run (one JSON body per
-- line in BODIES), round-robin over them; to $TARGET instead when set (the
-- responder that is the ceiling, with the same request bodies).
dofile(os.getenv("BENCH_DIR") .. "/bodies.lua")
local i = 0
local target = os.getenv("TARGET") or "/send"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, target, nil, bodies[i])
end
