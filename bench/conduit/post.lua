-- wrk script: POST /api/articles as the token in CONDUIT_TOKEN, each
-- request a new title (thread number and counter), so no slug collides.
-- Used by bench/conduit/run.sh and bench/peers/run.sh.
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local token = os.getenv("CONDUIT_TOKEN")
local start = tostring(os.time())
local n = 0

request = function()
	n = n + 1
	local body = '{"article":{"title":"bench ' .. start .. ' ' ..
		tostring(tid) .. ' ' .. n ..
		'","description":"d","body":"b","tagList":["bench","perf"]}}'
	return wrk.format("POST", "/api/articles", {
		["Content-Type"] = "application/json",
		["Authorization"] = "Token " .. token}, body)
end
