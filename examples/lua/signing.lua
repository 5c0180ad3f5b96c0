-- Functions the examples' templates and conditions call: `{{ sign(body) }}`.
-- Scripts get Lua's base, string, table, math, utf8 and coroutine, and loadcell's helpers
-- (json, base64, hex, url, crypto, uuid, random_int, random_string, now_ms); no io or os.

-- An HMAC-SHA256 request signature over the method, path and body, as APIs with signed
-- requests want it (the key would come from `vars` or `-e` in a real test).
function sign(method, path, body)
  return crypto.hmac("sha256", "example-key", method .. "\n" .. path .. "\n" .. (body or ""))
end

-- A payload of `n` random characters from the run's seeded generator (reproducible with --seed).
function payload(n)
  return json.encode({ id = uuid(), data = random_string(n) })
end
