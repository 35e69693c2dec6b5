-- The host[:port] of a URL, lowercased: what the per-host cap counts.
local function host(url)
  local h = string.match(url, '^%a[%w+.-]*://([^/?#]*)') or ''
  return string.lower(string.match(h, '[^@]*$'))
end
