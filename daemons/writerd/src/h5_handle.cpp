#include "writerd/h5_handle.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace peaknet::writerd {
namespace {

herr_t take_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  // Walked from the innermost call outwards: the first entry says what actually failed.
  if (n == 0 && err && err->desc) *static_cast<std::string*>(out) = err->desc;
  return 0;
}

std::mutex g_deferred_mutex;
std::vector<hid_t> g_deferred;  // files whose H5Fclose failed

}  // namespace

void h5_silence_errors() {
  H5dont_atexit();  // fails harmlessly once the library is initialised
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

void h5_defer_close(hid_t file) {
  // HDF5 1.10 crashes when a file whose H5Fclose failed is closed again (and at exit, which
  // H5dont_atexit() avoids): leave it open, count it. Costs one descriptor per failed close.
  if (H5Iis_valid(file) <= 0) return;
  std::lock_guard lock(g_deferred_mutex);
  g_deferred.push_back(file);
  H5Eclear2(H5E_DEFAULT);
}

size_t h5_files_left_open() {
  std::lock_guard lock(g_deferred_mutex);
  return g_deferred.size();
}

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
