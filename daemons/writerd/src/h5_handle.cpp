#include "writerd/h5_handle.hpp"

namespace peaknet::writerd {
namespace {

herr_t take_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  // Walked from the innermost call outwards: the first entry says what actually failed.
  if (n == 0 && err && err->desc) *static_cast<std::string*>(out) = err->desc;
  return 0;
}

}  // namespace

void h5_silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string h5_last_error() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, take_innermost, &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

H5Handle h5_own(hid_t id, H5Handle::Closer closer, const std::string& context) {
  if (id < 0) {
    const std::string detail = h5_last_error();
    throw H5Error(context + (detail.empty() ? std::string(": HDF5 call failed") : ": " + detail));
  }
  return H5Handle(id, closer);
}

void h5_check(herr_t status, const std::string& context) {
  if (status < 0) {
    const std::string detail = h5_last_error();
    throw H5Error(context + (detail.empty() ? std::string(": HDF5 call failed") : ": " + detail));
  }
}

}  // namespace peaknet::writerd
