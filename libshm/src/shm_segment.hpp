#pragma once
// RAII around one POSIX shared-memory object: the fd is closed right after mmap, the mapping is
// unmapped by the destructor. Never unlinks (that is an explicit decision of the caller).
#include <cstddef>
#include <cstdint>
#include <string>

namespace peaknet::shm::detail {

class ShmSegment {
 public:
  ShmSegment() = default;
  ShmSegment(ShmSegment&& o) noexcept;
  ShmSegment& operator=(ShmSegment&& o) noexcept;
  ShmSegment(const ShmSegment&) = delete;
  ShmSegment& operator=(const ShmSegment&) = delete;
  ~ShmSegment();

  enum class CreateResult { kCreated, kExists };
  /// O_CREAT|O_EXCL, mode forced with fchmod (umask ignored), sized and mapped (zero filled). Call
  /// reserve() after writing who creates it: it can take long for GiB rings. kExists leaves out empty.
  static CreateResult create_exclusive(const std::string& name, uint64_t bytes, bool group_shareable,
                                       ShmSegment& out);
  /// Maps the whole existing object; read_only maps PROT_READ. false when it does not exist (ENOENT).
  /// posix_fallocate of the whole object, so a full /dev/shm is an error now, not a SIGBUS later.
  /// On failure the object is unlinked and ShmError thrown.
  void reserve(const std::string& name);
  static bool open_existing(const std::string& name, bool read_only, ShmSegment& out);
  static void unlink(const std::string& name);
  static bool exists(const std::string& name);

  std::byte* base() const { return base_; }
  uint64_t bytes() const { return bytes_; }
  bool mapped() const { return base_ != nullptr; }

 private:
  void reset() noexcept;
  std::byte* base_ = nullptr;
  uint64_t bytes_ = 0;
  int fd_ = -1;  ///< kept only between create_exclusive and reserve
};

/// "/name"; ShmError when the name is empty, too long or contains '/'.
std::string shm_path(const std::string& name);
std::string errno_text(int err);

}  // namespace peaknet::shm::detail
