-- The fields of a delivery the sender needs, carried in its stream entry
-- ("x") so that taking it reads no record: "<guid> <event> <attempt>
-- <auto> <target type> <target id>".  They never change once the record
-- is written.
local function send(guid, event, attempt, auto, ttype, tid)
  return table.concat({guid or '', event or '', attempt or '',
                       auto or '', ttype or '', tid or ''}, ' ')
end
