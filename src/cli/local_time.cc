#include "cli/local_time.h"

#include "util/clock.h"

namespace ferry {

std::string LocalTime(const nlohmann::json& value, const std::string& missing) {
  int64_t nanos = 0;
  if (value.is_number_integer()) return FormatTimeLocal(value.get<int64_t>());
  if (!value.is_string()) return missing;
  const std::string& text = value.get_ref<const std::string&>();
  if (text.empty()) return missing;
  if (!ParseTimeRfc3339(text, &nanos)) return text;
  return FormatTimeLocal(nanos);
}

}  // namespace ferry
