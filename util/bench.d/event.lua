-- wrk: POSTs the file $BENCH_BODY as an event (X-GitHub-Event: push).
-- Used for the intake and, unchanged, for the proxy_pass baseline.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
