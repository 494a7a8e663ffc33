#include "malloc_tunables.hpp"

namespace peaknet::ctl {

std::string with_hugetlb_malloc(std::string_view current) {
  constexpr std::string_view kKey = "glibc.malloc.hugetlb";
  if (current.find(kKey) != std::string_view::npos) return std::string(current);  // the operator's choice wins
  std::string out(current);
  if (!out.empty()) out += ':';
  out += kKey;
  out += "=1";
  return out;
}

}  // namespace peaknet::ctl
