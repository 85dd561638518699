// Names that came from outside (a file name on a shipped disk, a field of a
// disk label) made safe to print and to put in JSON: a name may hold any
// bytes but '/' and NUL, and a newline or an escape sequence in a report
// would forge lines on an operator's terminal, while bytes that are not
// UTF-8 make a JSON encoder throw.
#pragma once

#include <string>
#include <string_view>

namespace ferry {

// Well-formed UTF-8 other than control characters is kept; every other byte,
// and the backslash itself, becomes "\xNN", so distinct names stay distinct.
std::string PrintableName(std::string_view name);

}  // namespace ferry
