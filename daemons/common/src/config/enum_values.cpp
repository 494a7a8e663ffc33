#include "common/config/enum_values.hpp"

namespace peaknet::config {

std::string not_one_of(std::string_view text, const std::vector<std::string_view>& allowed) {
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return "must be one of {" + list + "}, got \"" + std::string(text) + "\"";
}

}  // namespace peaknet::config
