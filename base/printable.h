// printable.h: text a server or a certificate chose (subjects, issuers,
// names, server messages), made safe for where people read it. On a
// terminal, control characters could move the cursor, retitle the window or
// hide lines; in a spreadsheet, a cell starting with '=' runs a formula.
#ifndef ERS_BASE_PRINTABLE_H_
#define ERS_BASE_PRINTABLE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ers {

// Printable returns |text| with every control character (C0, DEL, C1 in
// UTF-8) and every byte that is not part of valid UTF-8 written as an
// escape: \n, \t, \r, \e for the common ones, \xNN for the rest, and the
// backslash itself doubled. Printable text, including non-ASCII UTF-8,
// passes unchanged.
std::string Printable(absl::string_view text);

// CsvCell returns |text| as one RFC 4180 CSV field: made Printable (a CSV
// file is read on terminals too), quoted when it holds a comma or a quote
// (quotes doubled), and, when it starts with a character a spreadsheet
// reads as a formula ('=', '+', '-', '@'), prefixed with a single quote so
// that it stays text.
std::string CsvCell(absl::string_view text);

// HtmlText returns |text| made Printable and escaped for HTML content and
// attribute values (& < > " ').
std::string HtmlText(absl::string_view text);

}  // namespace ers

#endif  // ERS_BASE_PRINTABLE_H_
