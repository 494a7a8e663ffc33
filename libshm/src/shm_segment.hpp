#pragma once
// One POSIX shared-memory object, opened and mapped through Boost.Interprocess (shared_memory_object,
// mapped_region, permissions): the object is closed right after mapping, the mapping is unmapped by the
// destructor. Never unlinks (that is an explicit decision of the caller). The atomic publish (link(2) of
// a private name) is ours: Boost has no link or rename of shm objects (docs/decisions/0005).
#include <sys/types.h>
#include <boost/interprocess/mapped_region.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "shm/internal/publish_hook.hpp"

namespace peaknet::shm::detail {

class ShmSegment {
 public:
  ShmSegment() = default;
  ShmSegment(ShmSegment&& o) noexcept = default;
  ShmSegment& operator=(ShmSegment&& o) noexcept = default;
  ShmSegment(const ShmSegment&) = delete;
  ShmSegment& operator=(const ShmSegment&) = delete;
  ~ShmSegment() = default;

  enum class CreateResult { kCreated, kExists };
  /// Creates `name` complete or not at all. The object is built under a private name
  /// ("<name>.init-<pid>-<n>"): sized, mapped and populated (zero filled), reserved (posix_fallocate,
  /// so a full /dev/shm is an error now, not a SIGBUS later), handed to `init` (header and magic),
  /// and only then linked at `name` with link(2), which fails atomically when the name exists.
  /// An opener therefore never sees a half-made segment: populating GiB of cold memory can take
  /// seconds, and a segment seen without its header looked abandoned to the other daemons, which
  /// replaced it and left the creator writing into an unlinked ring (docs/decisions/0003). Mode 0600
  /// (0660 when group_shareable) whatever the umask (Boost fchmods after creating). kExists leaves
  /// `out` empty and removes the private object. Every failure is a ShmError naming `name` and the cause.
  static CreateResult create_published(const std::string& name, uint64_t bytes, bool group_shareable,
                                       const std::function<void(ShmSegment&)>& init, ShmSegment& out);
  /// Maps the whole existing object; read_only maps PROT_READ. false when it does not exist (ENOENT).
  static bool open_existing(const std::string& name, bool read_only, ShmSegment& out);
  static void unlink(const std::string& name);
  static bool exists(const std::string& name);

  std::byte* base() const { return static_cast<std::byte*>(region_.get_address()); }
  uint64_t bytes() const { return region_.get_size(); }
  bool mapped() const { return base() != nullptr; }

 private:
  boost::interprocess::mapped_region region_;  // empty (no mapping) when default constructed
};

/// The directory behind shm_open's names (glibc: the tmpfs at /dev/shm).
inline constexpr const char* kShmDir = "/dev/shm";

/// The pid of the creator when `file_name` is the private name of a segment being created
/// ("<name>.init-<pid>-<n>"); nullopt for every other name.
std::optional<pid_t> initializing_creator(const std::string& file_name);

/// "/name"; ShmError when the name is empty, too long or contains '/'.
std::string shm_path(const std::string& name);
std::string errno_text(int err);

}  // namespace peaknet::shm::detail
