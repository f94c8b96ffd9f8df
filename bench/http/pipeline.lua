-- wrk script: HTTP/1.1 pipelining.  Every write carries DEPTH GET requests
-- for the same path (the URL's path, /plaintext in run.sh); wrk counts the
-- requests in the string and waits for that many responses before writing
-- again.  DEPTH comes from the environment variable WRK_PIPELINE (16 if
-- unset), the depth TechEmpower's plaintext test uses.

local depth = tonumber(os.getenv("WRK_PIPELINE") or "16")
local batch

init = function(args)
	local one = wrk.format(nil, nil)
	local parts = {}
	for i = 1, depth do
		parts[i] = one
	end
	batch = table.concat(parts)
end

request = function()
	return batch
end
