// Messages quote what peers sent (a status line, a database error): a hostile server can
// put any bytes there. Before such text reaches a terminal, a results file or a report,
// control bytes and invalid UTF-8 become visible escapes (\x00), so that nothing a target
// sends can move the cursor, clear the screen or break a JSON reader.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace loadcell {

// Valid UTF-8 without control characters is returned unchanged; tabs are kept; every
// other control byte and every byte of an invalid UTF-8 sequence becomes \xNN.
std::string Printable(std::string_view text);

// `text` with each character that `escapes` names replaced by its escape (a format's
// quoting: Prometheus label values, Markdown table cells); other bytes unchanged.
std::string EscapeChars(std::string_view text, std::initializer_list<std::pair<char, std::string_view>> escapes);

}  // namespace loadcell
