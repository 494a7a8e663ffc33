#pragma once
// H5Handle: one owned HDF5 identifier (file, group, dataset, dataspace, property list, datatype),
// closed with the matching H5?close in a noexcept destructor. Move-only, like Jungfraujoch's
// HDF5Objects. h5_check() turns a negative HDF5 return into an H5Error carrying HDF5's own message.
#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace peaknet::writerd {

/// An HDF5 call failed. what() = "<context>: <innermost HDF5 error text>".
class H5Error : public std::runtime_error {
 public:
  explicit H5Error(const std::string& what) : std::runtime_error(what) {}
};

/// Turns HDF5's automatic error printing off for this process (we report errors ourselves) and, when
/// called before the library's first use, its exit-time clean-up (which flushes files whose close had
/// failed, and crashes in HDF5 1.10 doing so). Every file is closed explicitly instead.
void h5_silence_errors();
/// A file whose H5Fclose failed (e.g. disk full while flushing) stays open inside HDF5, holding its
/// descriptor; closing it again crashes HDF5 1.10, so it is parked and counted (known leak).
void h5_defer_close(hid_t file);
size_t h5_files_left_open();
/// Message of the innermost entry of HDF5's error stack ("" when empty); clears the stack.
std::string h5_last_error();

class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle() = default;
  H5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  H5Handle(H5Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  H5Handle& operator=(H5Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() { reset(); }

  hid_t get() const noexcept { return id_; }
  /// Gives up ownership without closing.
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }
  bool valid() const noexcept { return id_ >= 0; }
  /// Closes now; returns false when HDF5 reported an error (e.g. a failed flush on file close).
  bool reset() noexcept {
    bool ok = true;
    if (id_ >= 0 && closer_) ok = closer_(id_) >= 0;
    id_ = H5I_INVALID_HID;
    return ok;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// Wraps a freshly created id; throws H5Error("<context>: ...") when it is negative.
H5Handle h5_own(hid_t id, H5Handle::Closer closer, const std::string& context);
inline H5Handle h5_file(hid_t id, const std::string& ctx) { return h5_own(id, H5Fclose, ctx); }
inline H5Handle h5_group(hid_t id, const std::string& ctx) { return h5_own(id, H5Gclose, ctx); }
inline H5Handle h5_dataset(hid_t id, const std::string& ctx) { return h5_own(id, H5Dclose, ctx); }
inline H5Handle h5_space(hid_t id, const std::string& ctx) { return h5_own(id, H5Sclose, ctx); }
inline H5Handle h5_plist(hid_t id, const std::string& ctx) { return h5_own(id, H5Pclose, ctx); }
/// Throws H5Error("<context>: ...") when `status` is negative.
void h5_check(herr_t status, const std::string& context);

}  // namespace peaknet::writerd
