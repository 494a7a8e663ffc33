#include "pusher/npy_array.hpp"

#include <stdexcept>

namespace peaknet::pusher {

size_t NpyArray::elem_size() const {
  if (descr.size() < 3) throw std::invalid_argument("bad numpy descr \"" + descr + "\"");
  return static_cast<size_t>(std::stoul(descr.substr(2)));
}

uint64_t NpyArray::count() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

std::string descr_for_dtype(const std::string& dtype) {
  if (dtype == "float32") return "<f4";
  if (dtype == "float64") return "<f8";
  if (dtype == "uint16") return "<u2";
  if (dtype == "int32") return "<i4";
  if (dtype == "uint64") return "<u8";
  if (dtype == "int64") return "<i8";
  throw std::invalid_argument("unsupported dtype \"" + dtype + "\" (float32, float64, uint16, int32, uint64, int64)");
}

}  // namespace peaknet::pusher
