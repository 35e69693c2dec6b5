-- wrk: every request creates a hook on a repository of its own, so the
-- per-event cap (20 hooks per repository) never turns creates into 422s.
local n = 0
local thread_id = 0
local tid = 0

function setup(thread)
    tid = tid + 1
    thread:set("thread_id", tid)
end

request = function()
    n = n + 1
    local path = string.format("/repos/bench/t%d-%d/hooks", thread_id, n)
    local body = string.format(
        '{"name":"web","events":["push"],"config":' ..
        '{"url":"https://example.com/hook/%d-%d","content_type":"json"}}',
        thread_id, n)
    return wrk.format("POST", path, {
        ["Authorization"] = "token demo-owner",
        ["Content-Type"] = "application/json"
    }, body)
end

local statuses = {}
response = function(status)
    statuses[status] = (statuses[status] or 0) + 1
end
